//! The built-in `service-time` flow module (TCCC's "service time"): sends the session
//! on by `open` during opening hours and by `closed` outside them.
//!
//! # Configuration
//!
//! ```json
//! {
//!   "weekly": {
//!     "monday":   [{ "start": "09:00", "end": "12:00" }, { "start": "13:30", "end": "18:00" }],
//!     "tuesday":  [{ "start": "09:00", "end": "18:00" }],
//!     "friday":   [{ "start": "09:00", "end": "18:00" }, { "start": "22:00", "end": "02:00" }],
//!     "saturday": [{ "start": "00:00", "end": "24:00" }]
//!   },
//!   "special_dates": [
//!     { "date": "2026-10-01", "end_date": "2026-10-07", "name": "国庆节" },
//!     { "date": "2026-09-27", "name": "调休上班", "hours": [{ "start": "09:00", "end": "18:00" }] }
//!   ],
//!   "time_zone": "Asia/Shanghai",
//!   "closed_message": "现在是非工作时间（${SpecialDateName}），我们的服务时间为工作日 9:00–18:00。",
//!   "variable": "in_service_time"
//! }
//! ```
//!
//! - `weekly`: the opening hours of each day of the week, by its English name
//!   (`monday` … `sunday`). A day that is not listed, or lists no range, is closed.
//!   Each day has at most 10 ranges.
//! - A range is `{"start": "HH:MM", "end": "HH:MM"}`: open from `start` (included) to
//!   `end` (excluded). `end` may be `24:00` (the end of the day). **An end before the
//!   start crosses midnight**: Friday's `22:00`–`02:00` is open from Friday 22:00 until
//!   Saturday 02:00. The hours after midnight belong to the day the range starts on,
//!   so they apply even when the next day is a holiday. A range whose end equals its
//!   start is refused (write `00:00`–`24:00` for a whole day), and so are ranges of the
//!   same day that overlap (the hours a range brings past midnight may overlap the
//!   next day's ranges: the service is simply open).
//! - `special_dates` (at most 200): dates whose hours differ from the week's:
//!   public holidays, make-up working days, events. `date` (`YYYY-MM-DD`) and an
//!   optional `end_date` (included; at most 366 days after `date`) give the dates,
//!   `name` (up to 64 characters) describes them, and `hours` lists the ranges as for
//!   a weekday; without `hours` (or with none) the dates are closed all day. Special
//!   dates may not overlap one another.
//! - `time_zone`: an IANA time zone (`Europe/Berlin`) whose clock the hours are read
//!   in. Without it, the tenant's time zone is used (the clock kefu gives the module).
//! - `closed_message`: sent when leaving by `closed`, unless empty (the default).
//!   Besides the usual `${Name}` placeholders (session variables, `${ClientAppName}`,
//!   …) it may use `${SpecialDateName}`, the `name` of today's special date (empty on
//!   an ordinary day).
//! - `variable`: the name of a session variable that receives `true` when open and
//!   `false` when closed, for later nodes; none by default.
//!
//! # Exits
//!
//! - `open`: the current time is within today's hours (or yesterday's range that
//!   crosses midnight).
//! - `closed`: otherwise; the closed message, if any, has been sent.
//!
//! The module decides on the step it is entered with and never waits.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike};
use chrono_tz::Tz;
use kefu_flow_sdk::{ConfigProblem, Error, FlowModule, Input, ModuleInfo, Output, host, json};
use serde::Deserialize;

const MAX_RANGES_PER_DAY: usize = 10;
const MAX_SPECIAL_DATES: usize = 200;
const MAX_SPECIAL_SPAN_DAYS: i64 = 366;
const MAX_NAME: usize = 64;
const MAX_MESSAGE: usize = 4000;
const MAX_VARIABLE: usize = 64;
const MINUTES_PER_DAY: u16 = 24 * 60;

/// The days of the week as `weekly` names them, Monday first.
const DAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// The node configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    weekly: Weekly,
    #[serde(default)]
    special_dates: Vec<SpecialDate>,
    #[serde(default)]
    time_zone: Option<String>,
    #[serde(default)]
    closed_message: String,
    #[serde(default)]
    variable: Option<String>,
}

/// The opening hours of each day of the week.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Weekly {
    #[serde(default)]
    monday: Vec<RangeConfig>,
    #[serde(default)]
    tuesday: Vec<RangeConfig>,
    #[serde(default)]
    wednesday: Vec<RangeConfig>,
    #[serde(default)]
    thursday: Vec<RangeConfig>,
    #[serde(default)]
    friday: Vec<RangeConfig>,
    #[serde(default)]
    saturday: Vec<RangeConfig>,
    #[serde(default)]
    sunday: Vec<RangeConfig>,
}

impl Weekly {
    /// The days, Monday first, as [`DAYS`] names them.
    fn days(&self) -> [&[RangeConfig]; 7] {
        [
            &self.monday,
            &self.tuesday,
            &self.wednesday,
            &self.thursday,
            &self.friday,
            &self.saturday,
            &self.sunday,
        ]
    }
}

/// An opening range as configured: `"HH:MM"` strings.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeConfig {
    start: String,
    end: String,
}

/// Dates with their own hours.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecialDate {
    date: String,
    #[serde(default)]
    end_date: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    hours: Vec<RangeConfig>,
}

/// An opening range in minutes since the start of its day; `end` is above
/// [`MINUTES_PER_DAY`] for a range that crosses midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Range {
    start: u16,
    end: u16,
}

impl Range {
    fn overlaps(self, other: Range) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// Special dates, from `first` to `last` (both included).
#[derive(Debug)]
struct Special {
    first: NaiveDate,
    last: NaiveDate,
    name: String,
    ranges: Vec<Range>,
}

/// The configuration's hours, checked and in minutes.
#[derive(Debug)]
struct Schedule {
    /// Monday first.
    weekly: [Vec<Range>; 7],
    special: Vec<Special>,
}

/// What the schedule says about one moment.
#[derive(Debug, PartialEq, Eq)]
struct Verdict<'a> {
    open: bool,
    /// The name of the special date the moment falls on, if any.
    special_date: Option<&'a str>,
}

impl Schedule {
    /// The special date `date` falls on, if any.
    fn special(&self, date: NaiveDate) -> Option<&Special> {
        self.special
            .iter()
            .find(|special| special.first <= date && date <= special.last)
    }

    /// The ranges that start on `date`.
    fn ranges(&self, date: NaiveDate) -> &[Range] {
        match self.special(date) {
            Some(special) => &special.ranges,
            None => &self.weekly[date.weekday().num_days_from_monday() as usize],
        }
    }

    /// Whether the service is open at the local time `at`.
    fn at(&self, at: NaiveDateTime) -> Verdict<'_> {
        let date = at.date();
        let minute = (at.hour() * 60 + at.minute()) as u16;
        let today = self
            .ranges(date)
            .iter()
            .any(|r| r.start <= minute && minute < r.end);
        // A range of yesterday that crosses midnight reaches into today.
        let from_yesterday = date.pred_opt().is_some_and(|yesterday| {
            self.ranges(yesterday)
                .iter()
                .any(|r| minute + MINUTES_PER_DAY < r.end)
        });
        Verdict {
            open: today || from_yesterday,
            special_date: self.special(date).map(|s| s.name.as_str()),
        }
    }
}

/// Collects configuration problems, each with the JSON pointer of its value.
#[derive(Default)]
struct Problems(Vec<ConfigProblem>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigProblem::new(path, message));
    }

    fn max_length(&mut self, path: &str, text: &str, max: usize) {
        let count = text.chars().count();
        if count > max {
            self.add(
                path,
                format!("is {count} characters long; at most {max} are allowed"),
            );
        }
    }
}

/// Reads `"HH:MM"` as minutes since midnight; `24:00` only where `end_of_day` is allowed.
fn parse_time(text: &str, end_of_day: bool) -> Option<u16> {
    let (hours, minutes) = text.split_once(':')?;
    let digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(hours) || !digits(minutes) {
        return None;
    }
    let (hours, minutes): (u16, u16) = (hours.parse().ok()?, minutes.parse().ok()?);
    match (hours, minutes) {
        (0..=23, 0..=59) => Some(hours * 60 + minutes),
        (24, 0) if end_of_day => Some(MINUTES_PER_DAY),
        _ => None,
    }
}

/// Reads `"YYYY-MM-DD"`.
fn parse_date(text: &str) -> Option<NaiveDate> {
    let shape = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shape {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

fn format_time(minutes: u16) -> String {
    let minutes = minutes % MINUTES_PER_DAY
        + if minutes == MINUTES_PER_DAY {
            MINUTES_PER_DAY
        } else {
            0
        };
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Checks and converts the ranges of one day, found at `path`.
fn day_ranges(path: &str, configs: &[RangeConfig], problems: &mut Problems) -> Vec<Range> {
    if configs.len() > MAX_RANGES_PER_DAY {
        problems.add(
            path,
            format!(
                "has {} ranges; at most {MAX_RANGES_PER_DAY} are allowed",
                configs.len()
            ),
        );
    }
    let mut ranges: Vec<(usize, Range)> = Vec::new();
    for (i, config) in configs.iter().enumerate() {
        let at = format!("{path}/{i}");
        let start = parse_time(&config.start, false);
        if start.is_none() {
            problems.add(
                format!("{at}/start"),
                format!(
                    "`{}` is not a time; expected HH:MM, 00:00 to 23:59",
                    config.start
                ),
            );
        }
        let end = parse_time(&config.end, true);
        if end.is_none() {
            problems.add(
                format!("{at}/end"),
                format!(
                    "`{}` is not a time; expected HH:MM, 00:00 to 24:00",
                    config.end
                ),
            );
        }
        let (Some(start), Some(mut end)) = (start, end) else {
            continue;
        };
        if start == end {
            problems.add(
                format!("{at}/end"),
                "must differ from the start; for a whole day write 00:00 to 24:00",
            );
            continue;
        }
        if end < start {
            // Crosses midnight: ends on the next day.
            end += MINUTES_PER_DAY;
        }
        let range = Range { start, end };
        if let Some((j, other)) = ranges.iter().find(|(_, other)| other.overlaps(range)) {
            problems.add(
                at,
                format!(
                    "overlaps the range {path}/{j} ({}–{})",
                    format_time(other.start),
                    format_time(other.end)
                ),
            );
            continue;
        }
        ranges.push((i, range));
    }
    ranges.into_iter().map(|(_, range)| range).collect()
}

/// Checks the configuration's hours and dates and converts them; every problem is
/// reported with its JSON pointer.
fn schedule(config: &Config) -> Result<Schedule, Vec<ConfigProblem>> {
    let mut problems = Problems::default();
    let days = config.weekly.days();
    let weekly: [Vec<Range>; 7] = std::array::from_fn(|i| {
        day_ranges(&format!("/weekly/{}", DAYS[i]), days[i], &mut problems)
    });

    if config.special_dates.len() > MAX_SPECIAL_DATES {
        problems.add(
            "/special_dates",
            format!(
                "has {} entries; at most {MAX_SPECIAL_DATES} are allowed",
                config.special_dates.len()
            ),
        );
    }
    let mut special: Vec<(usize, Special)> = Vec::new();
    for (i, entry) in config.special_dates.iter().enumerate() {
        let at = format!("/special_dates/{i}");
        problems.max_length(&format!("{at}/name"), &entry.name, MAX_NAME);
        let ranges = day_ranges(&format!("{at}/hours"), &entry.hours, &mut problems);
        let Some(first) = parse_date(&entry.date) else {
            problems.add(
                format!("{at}/date"),
                format!("`{}` is not a date; expected YYYY-MM-DD", entry.date),
            );
            continue;
        };
        let last = match entry.end_date.as_deref() {
            None => first,
            Some(text) => match parse_date(text) {
                None => {
                    problems.add(
                        format!("{at}/end_date"),
                        format!("`{text}` is not a date; expected YYYY-MM-DD"),
                    );
                    continue;
                }
                Some(last) if last < first => {
                    problems.add(
                        format!("{at}/end_date"),
                        format!("is before the date {first}"),
                    );
                    continue;
                }
                Some(last) if (last - first).num_days() > MAX_SPECIAL_SPAN_DAYS => {
                    problems.add(
                        format!("{at}/end_date"),
                        format!("is more than {MAX_SPECIAL_SPAN_DAYS} days after the date {first}"),
                    );
                    continue;
                }
                Some(last) => last,
            },
        };
        if let Some((j, other)) = special
            .iter()
            .find(|(_, other)| other.first <= last && first <= other.last)
        {
            problems.add(
                format!("{at}/date"),
                format!(
                    "overlaps /special_dates/{j} ({} to {})",
                    other.first, other.last
                ),
            );
            continue;
        }
        special.push((
            i,
            Special {
                first,
                last,
                name: entry.name.clone(),
                ranges,
            },
        ));
    }

    if let Some(zone) = &config.time_zone
        && zone.parse::<Tz>().is_err()
    {
        problems.add(
            "/time_zone",
            format!("`{zone}` is not a known IANA time zone, such as Asia/Shanghai"),
        );
    }
    problems.max_length("/closed_message", &config.closed_message, MAX_MESSAGE);
    if let Some(name) = &config.variable
        && !is_variable_name(name)
    {
        problems.add(
            "/variable",
            format!(
                "`{name}` is not a variable name: 1 to {MAX_VARIABLE} letters, digits, `_`, `-` or `.`"
            ),
        );
    }

    if problems.0.is_empty() {
        Ok(Schedule {
            weekly,
            special: special.into_iter().map(|(_, s)| s).collect(),
        })
    } else {
        Err(problems.0)
    }
}

/// What `${Name}` placeholders accept as a name, so the variable can be shown.
fn is_variable_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= MAX_VARIABLE
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// The local date and time now: in `zone` if set, otherwise the tenant's.
fn local_now(zone: Option<&str>) -> Result<NaiveDateTime, Error> {
    let now = host::now();
    let at =
        match zone {
            Some(zone) => {
                let tz: Tz = zone
                    .parse()
                    .map_err(|_| Error::failed(format!("unknown time zone `{zone}`")))?;
                DateTime::from_timestamp_millis(now.unix_ms)
                    .map(|utc| utc.with_timezone(&tz).naive_local())
            }
            None => NaiveDate::from_ymd_opt(now.year, now.month.into(), now.day.into()).and_then(
                |date| date.and_hms_opt(now.hour.into(), now.minute.into(), now.second.into()),
            ),
        };
    at.ok_or_else(|| Error::failed("the host's clock is out of range"))
}

struct ServiceTime;

impl FlowModule for ServiceTime {
    type Config = Config;

    fn describe() -> ModuleInfo {
        let ranges = json!({
            "type": "array",
            "maxItems": MAX_RANGES_PER_DAY,
            "items": {
                "description": "Open from start (included) to end (excluded). An end before the start crosses midnight into the next day.",
                "type": "object",
                "properties": {
                    "start": {"description": "HH:MM, 00:00 to 23:59.", "type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
                    "end": {"description": "HH:MM, 00:00 to 24:00; different from start.", "type": "string", "pattern": "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"}
                },
                "required": ["start", "end"],
                "additionalProperties": false
            }
        });
        let mut weekly_days = json!({});
        for day in DAYS {
            weekly_days[day] = ranges.clone();
        }
        let date = json!({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"});
        ModuleInfo::new("service-time", "1.0.0")
            .description("Goes on by `open` during opening hours and by `closed` outside them, honouring special dates and holidays.")
            .config_schema(json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {
                    "weekly": {
                        "description": "Opening hours of each day of the week; a day not listed is closed.",
                        "type": "object",
                        "properties": weekly_days,
                        "additionalProperties": false
                    },
                    "special_dates": {
                        "description": "Dates with their own hours (holidays, make-up working days); they may not overlap.",
                        "type": "array",
                        "maxItems": MAX_SPECIAL_DATES,
                        "items": {
                            "type": "object",
                            "properties": {
                                "date": {"description": "The first date, YYYY-MM-DD.", "allOf": [date]},
                                "end_date": {"description": "The last date (included), YYYY-MM-DD; at most 366 days after date. Defaults to date.", "allOf": [date]},
                                "name": {"description": "What the dates are, e.g. a holiday's name; ${SpecialDateName} in the closed message.", "type": "string", "maxLength": MAX_NAME, "default": ""},
                                "hours": {"description": "The hours of each of these dates; none means closed all day.", "allOf": [ranges], "default": []}
                            },
                            "required": ["date"],
                            "additionalProperties": false
                        },
                        "default": []
                    },
                    "time_zone": {
                        "description": "IANA time zone the hours are read in, e.g. Europe/Berlin; defaults to the tenant's.",
                        "type": ["string", "null"]
                    },
                    "closed_message": {
                        "description": "Sent when closed, unless empty; ${Name} placeholders are filled, including ${SpecialDateName}.",
                        "type": "string", "maxLength": MAX_MESSAGE, "default": ""
                    },
                    "variable": {
                        "description": "A session variable set to true when open and false when closed.",
                        "type": ["string", "null"], "minLength": 1, "maxLength": MAX_VARIABLE
                    }
                },
                "additionalProperties": false
            }))
            .exit("open", "Within the opening hours")
            .exit("closed", "Outside the opening hours, or on a closed special date")
    }

    fn validate_config(config: &Config) -> Result<(), Error> {
        schedule(config).map(|_| ()).map_err(Error::invalid_config)
    }

    fn step(input: Input<Config>) -> Result<Output, Error> {
        let config = input.config();
        let schedule = schedule(config)
            .map_err(|problems| Error::failed(Error::invalid_config(problems).to_string()))?;
        let now = local_now(config.time_zone.as_deref())?;
        let verdict = schedule.at(now);
        let mut output = if verdict.open {
            Output::exit("open")
        } else {
            Output::exit("closed")
        };
        if !verdict.open && !config.closed_message.is_empty() {
            let name = verdict.special_date.unwrap_or_default().to_owned();
            output = output
                .send_text(input.render_with(&config.closed_message, &[("SpecialDateName", name)]));
        }
        if let Some(variable) = &config.variable {
            output = output.set_variable(variable, verdict.open)?;
        }
        Ok(output)
    }
}

kefu_flow_sdk::export!(ServiceTime);

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: serde_json::Value) -> Config {
        serde_json::from_value(json).unwrap()
    }

    fn problems(json: serde_json::Value) -> Vec<(String, String)> {
        schedule(&config(json))
            .unwrap_err()
            .into_iter()
            .map(|p| (p.path, p.message))
            .collect()
    }

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
    }

    /// Monday to Friday 09:00–12:00 and 13:30–18:00; Friday also 22:00–02:00;
    /// the National Day week closed; one make-up Sunday.
    fn office() -> Schedule {
        let day = json!([{"start": "09:00", "end": "12:00"}, {"start": "13:30", "end": "18:00"}]);
        schedule(&config(json!({
            "weekly": {
                "monday": day, "tuesday": day, "wednesday": day, "thursday": day,
                "friday": [{"start": "09:00", "end": "18:00"}, {"start": "22:00", "end": "02:00"}]
            },
            "special_dates": [
                {"date": "2026-10-01", "end_date": "2026-10-07", "name": "国庆节"},
                {"date": "2026-09-27", "name": "调休", "hours": [{"start": "10:00", "end": "16:00"}]}
            ]
        })))
        .unwrap()
    }

    #[test]
    fn reads_times_of_day() {
        assert_eq!(parse_time("00:00", false), Some(0));
        assert_eq!(parse_time("23:59", false), Some(1439));
        assert_eq!(parse_time("24:00", true), Some(1440));
        assert_eq!(parse_time("24:00", false), None);
        for bad in ["9:00", "24:01", "12:60", "1200", "ab:cd", "12:00 ", "+1:00"] {
            assert_eq!(parse_time(bad, true), None, "{bad}");
        }
    }

    #[test]
    fn reads_dates() {
        assert_eq!(
            parse_date("2026-02-28"),
            NaiveDate::from_ymd_opt(2026, 2, 28)
        );
        for bad in [
            "2026-02-29",
            "2026-2-28",
            "2026/02/28",
            "20260228",
            "2026-13-01",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn opens_within_the_weekly_ranges_only() {
        let s = office();
        // 2026-11-23 is a Monday.
        assert!(!s.at(at("2026-11-23 08:59")).open);
        assert!(s.at(at("2026-11-23 09:00")).open);
        assert!(s.at(at("2026-11-23 11:59")).open);
        assert!(!s.at(at("2026-11-23 12:00")).open);
        assert!(s.at(at("2026-11-23 13:30")).open);
        assert!(!s.at(at("2026-11-23 18:00")).open);
        // Saturday and Sunday are not listed.
        assert!(!s.at(at("2026-11-28 10:00")).open);
        assert!(!s.at(at("2026-11-29 10:00")).open);
    }

    #[test]
    fn a_range_ending_before_its_start_crosses_midnight() {
        let s = office();
        // Friday 2026-11-27 22:00 to Saturday 02:00.
        assert!(!s.at(at("2026-11-27 21:59")).open);
        assert!(s.at(at("2026-11-27 23:30")).open);
        assert!(s.at(at("2026-11-28 01:59")).open);
        assert!(!s.at(at("2026-11-28 02:00")).open);
        // Thursday night is not open.
        assert!(!s.at(at("2026-11-27 01:00")).open);
    }

    #[test]
    fn special_dates_replace_the_week() {
        let s = office();
        // Thursday 2026-10-01 to Wednesday 2026-10-07: closed, named.
        let verdict = s.at(at("2026-10-05 10:00"));
        assert_eq!(
            verdict,
            Verdict {
                open: false,
                special_date: Some("国庆节")
            }
        );
        assert!(s.at(at("2026-10-08 10:00")).open);
        // Sunday 2026-09-27 opens 10:00–16:00.
        assert!(!s.at(at("2026-09-27 09:30")).open);
        assert!(s.at(at("2026-09-27 15:59")).open);
        assert_eq!(s.at(at("2026-11-23 10:00")).special_date, None);
    }

    #[test]
    fn the_hours_after_midnight_belong_to_the_day_the_range_starts_on() {
        let s = schedule(&config(json!({
            "weekly": {"wednesday": [{"start": "20:00", "end": "03:00"}]},
            "special_dates": [
                {"date": "2026-09-30", "name": "eve"},
                {"date": "2026-10-01", "hours": [{"start": "00:00", "end": "24:00"}]}
            ]
        })))
        .unwrap();
        // Wednesday 2026-09-30 is closed, so its night range does not reach Thursday.
        assert!(!s.at(at("2026-09-30 21:00")).open);
        // Thursday 2026-10-01 is open all day.
        assert!(s.at(at("2026-10-01 23:59")).open);
        // An ordinary Wednesday night reaches into Thursday, even a closed Thursday.
        assert!(s.at(at("2026-10-08 02:59")).open);
        assert!(!s.at(at("2026-10-08 03:00")).open);
    }

    #[test]
    fn reports_bad_times_and_overlaps() {
        let found = problems(json!({"weekly": {
            "monday": [
                {"start": "9:00", "end": "12:00"},
                {"start": "10:00", "end": "24:00"},
                {"start": "11:00", "end": "13:00"},
                {"start": "14:00", "end": "14:00"}
            ],
            "sunday": [{"start": "22:00", "end": "06:00"}, {"start": "23:00", "end": "23:30"}]
        }}));
        assert_eq!(
            found,
            [
                (
                    "/weekly/monday/0/start".to_owned(),
                    "`9:00` is not a time; expected HH:MM, 00:00 to 23:59".to_owned()
                ),
                (
                    "/weekly/monday/2".to_owned(),
                    "overlaps the range /weekly/monday/1 (10:00–24:00)".to_owned()
                ),
                (
                    "/weekly/monday/3/end".to_owned(),
                    "must differ from the start; for a whole day write 00:00 to 24:00".to_owned()
                ),
                (
                    "/weekly/sunday/1".to_owned(),
                    "overlaps the range /weekly/sunday/0 (22:00–06:00)".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn reports_bad_and_overlapping_dates() {
        let found = problems(json!({
            "special_dates": [
                {"date": "2026-10-01", "end_date": "2026-10-07"},
                {"date": "2026-10-07"},
                {"date": "2026-02-30"},
                {"date": "2026-05-05", "end_date": "2026-05-01"},
                {"date": "2026-01-01", "end_date": "2027-06-01"},
                {"date": "2026-12-25", "name": "x".repeat(65), "hours": [{"start": "25:00", "end": "10:00"}]}
            ],
            "time_zone": "Mars/Olympus",
            "variable": "has space"
        }));
        let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/special_dates/1/date",
                "/special_dates/2/date",
                "/special_dates/3/end_date",
                "/special_dates/4/end_date",
                "/special_dates/5/name",
                "/special_dates/5/hours/0/start",
                "/time_zone",
                "/variable",
            ]
        );
        assert_eq!(
            found[0].1,
            "overlaps /special_dates/0 (2026-10-01 to 2026-10-07)"
        );
        assert_eq!(found[2].1, "is before the date 2026-05-05");
        assert_eq!(
            found[6].1,
            "`Mars/Olympus` is not a known IANA time zone, such as Asia/Shanghai"
        );
    }

    #[test]
    fn limits_the_ranges_of_a_day() {
        let ranges: Vec<_> = (0..11)
            .map(|h| json!({"start": format!("{h:02}:00"), "end": format!("{h:02}:30")}))
            .collect();
        let found = problems(json!({"weekly": {"friday": ranges}}));
        assert_eq!(
            found,
            [(
                "/weekly/friday".to_owned(),
                "has 11 ranges; at most 10 are allowed".to_owned()
            )]
        );
    }
}

//! Report ranges and buckets in the tenant's time zone.
//!
//! A report covers whole local days, `from` to `to` inclusive. Its buckets are the
//! local days, or the local hours: an hour repeated when clocks go back is two buckets
//! (their offsets differ), an hour skipped when they go forward is none, so a day has
//! 23, 24 or 25 hourly buckets. Rollups are kept per 15-minute slot in UTC; every
//! bucket boundary of every time zone in use is a slot boundary, so each slot falls in
//! exactly one bucket.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// The length of a rollup slot.
pub const SLOT_SECS: i64 = 900;

/// The start (Unix seconds) of the slot holding `ms`.
pub fn slot_of(ms: i64) -> i64 {
    ms.div_euclid(SLOT_SECS * 1000) * SLOT_SECS
}

/// The longest report: a year of days, or a month of hours.
pub const MAX_DAYS: i64 = 366;
pub const MAX_HOURLY_DAYS: i64 = 31;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    Hour,
    Day,
}

/// Whole local days of a tenant, `from` to `to` inclusive.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub tz: Tz,
}

/// Why a range cannot be reported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("`to` is before `from`")]
    Reversed,
    #[error("a report covers at most {0} days")]
    TooLong(i64),
    #[error("the date is out of range")]
    OutOfRange,
}

/// One bucket of a report: `[start, end)`, named by its local start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub label: DateTime<FixedOffset>,
}

/// The first instant of a local date: midnight, or the first quarter hour after it
/// that exists when the clocks jumped over midnight.
pub fn start_of_day(tz: Tz, date: NaiveDate) -> Option<DateTime<Utc>> {
    (0..=16).find_map(|quarter| {
        let local = date.and_hms_opt(0, 0, 0)? + Duration::minutes(15 * quarter);
        (local.date() == date)
            .then(|| tz.from_local_datetime(&local).earliest())
            .flatten()
            .map(|t| t.with_timezone(&Utc))
    })
}

impl Range {
    pub fn new(
        from: NaiveDate,
        to: NaiveDate,
        tz: Tz,
        interval: Interval,
    ) -> Result<Self, RangeError> {
        if to < from {
            return Err(RangeError::Reversed);
        }
        let days = (to - from).num_days() + 1;
        let max = match interval {
            Interval::Day => MAX_DAYS,
            Interval::Hour => MAX_HOURLY_DAYS,
        };
        if days > max {
            return Err(RangeError::TooLong(max));
        }
        let range = Range { from, to, tz };
        range.start().ok_or(RangeError::OutOfRange)?;
        range.end().ok_or(RangeError::OutOfRange)?;
        Ok(range)
    }

    /// The first instant of `from`.
    pub fn start(&self) -> Option<DateTime<Utc>> {
        start_of_day(self.tz, self.from)
    }

    /// The first instant after `to`.
    pub fn end(&self) -> Option<DateTime<Utc>> {
        start_of_day(self.tz, self.to.succ_opt()?)
    }

    /// The buckets of the range, in order.
    pub fn buckets(&self, interval: Interval) -> Vec<Bucket> {
        let (Some(start), Some(end)) = (self.start(), self.end()) else {
            return Vec::new();
        };
        let key = |t: DateTime<Utc>| {
            let local = t.with_timezone(&self.tz);
            let offset = local.offset().fix().local_minus_utc();
            match interval {
                Interval::Day => (local.date_naive(), 0, 0),
                Interval::Hour => (local.date_naive(), local.hour(), offset),
            }
        };
        let mut out: Vec<Bucket> = Vec::new();
        let mut t = start;
        let mut current = key(t);
        let mut bucket_start = t;
        while t < end {
            let next = t + Duration::seconds(SLOT_SECS);
            let k = if next < end { Some(key(next)) } else { None };
            if k != Some(current) {
                out.push(Bucket {
                    start: bucket_start,
                    end: next.min(end),
                    label: bucket_start.with_timezone(&self.tz).fixed_offset(),
                });
                bucket_start = next;
                if let Some(k) = k {
                    current = k;
                }
            }
            t = next;
        }
        out
    }
}

/// The index of the bucket holding the instant `secs` (Unix seconds), if any.
pub fn bucket_of(buckets: &[Bucket], secs: i64) -> Option<usize> {
    let i = buckets.partition_point(|b| b.start.timestamp() <= secs);
    let i = i.checked_sub(1)?;
    (secs < buckets[i].end.timestamp()).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn a_day_has_23_24_or_25_hours_across_dst() {
        let berlin: Tz = chrono_tz::Europe::Berlin;
        let spring = Range::new(day("2026-03-29"), day("2026-03-29"), berlin, Interval::Hour)
            .expect("range");
        let hours = spring.buckets(Interval::Hour);
        assert_eq!(hours.len(), 23);
        assert_eq!(hours[2].label.to_rfc3339(), "2026-03-29T03:00:00+02:00");
        let autumn = Range::new(day("2026-10-25"), day("2026-10-25"), berlin, Interval::Hour)
            .expect("range");
        let hours = autumn.buckets(Interval::Hour);
        assert_eq!(hours.len(), 25);
        assert_eq!(hours[2].label.to_rfc3339(), "2026-10-25T02:00:00+02:00");
        assert_eq!(hours[3].label.to_rfc3339(), "2026-10-25T02:00:00+01:00");
        let days = Range::new(day("2026-10-24"), day("2026-10-26"), berlin, Interval::Day)
            .expect("range")
            .buckets(Interval::Day);
        let lengths: Vec<i64> = days.iter().map(|b| (b.end - b.start).num_hours()).collect();
        assert_eq!(lengths, [24, 25, 24]);
    }

    #[test]
    fn quarter_hour_zones_and_slot_lookup() {
        let nepal: Tz = chrono_tz::Asia::Kathmandu;
        let r =
            Range::new(day("2026-01-01"), day("2026-01-01"), nepal, Interval::Hour).expect("range");
        let hours = r.buckets(Interval::Hour);
        assert_eq!(hours.len(), 24);
        assert_eq!(hours[0].start.to_rfc3339(), "2025-12-31T18:15:00+00:00");
        let second = hours[1].start.timestamp();
        assert_eq!(bucket_of(&hours, second), Some(1));
        assert_eq!(bucket_of(&hours, second - 1), Some(0));
        assert_eq!(bucket_of(&hours, hours[23].end.timestamp()), None);
        assert_eq!(slot_of(second * 1000 + 899_999), second);
        assert!(Range::new(day("2026-01-02"), day("2026-01-01"), nepal, Interval::Day).is_err());
        assert!(Range::new(day("2026-01-01"), day("2026-03-01"), nepal, Interval::Hour).is_err());
    }
}

//! Records as files: CSV (UTF-8 with a byte-order mark, so that Excel reads Chinese
//! correctly) and JSON lines. Exports are streamed a page at a time; this file turns
//! records into lines.

use serde::Deserialize;
use utoipa::ToSchema;

use super::Record;

/// An export's file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Comma-separated, with a header line.
    Csv,
    /// One record (as the API shows it) per line.
    Jsonl,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Jsonl => "application/x-ndjson",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Jsonl => "jsonl",
        }
    }
}

/// The CSV columns, in order.
pub const COLUMNS: [&str; 33] = [
    "record_id",
    "session_id",
    "status",
    "started_at",
    "ended_at",
    "duration_secs",
    "queue_wait_secs",
    "first_reply_secs",
    "end_status",
    "end_status_name",
    "ended_by",
    "user_id",
    "user_nickname",
    "channel_id",
    "channel_name",
    "source",
    "skill_group_id",
    "skill_group_name",
    "agent_id",
    "agent_staff_no",
    "agent_nickname",
    "transferred_from",
    "transferred_to",
    "satisfaction_score",
    "satisfaction_label",
    "satisfaction_comment",
    "messages_user",
    "messages_bot",
    "messages_agent",
    "messages_system",
    "bot_only",
    "queued_at",
    "accepted_at",
];

/// Text a spreadsheet would take for a formula (`=`, `+`, `-`, `@`, tab or carriage
/// return first) gets a leading apostrophe: users choose nicknames and comments.
fn text(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn fields(r: &Record) -> Vec<String> {
    let stamp = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default()
    };
    let sat = r.satisfaction.as_ref();
    vec![
        r.id.to_string(),
        r.session_id.to_string(),
        serde_json::to_value(r.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        stamp(Some(r.started_at)),
        stamp(r.ended_at),
        opt(r.duration_secs),
        opt(r.queue_wait_secs),
        opt(r.first_reply_secs),
        opt(r.end_status),
        opt(r.end_status_name),
        opt(r.ended_by.map(|e| e.as_str())),
        text(&r.user.id),
        text(&r.user.nickname),
        r.channel.id.to_string(),
        text(r.channel.name.as_deref().unwrap_or_default()),
        r.channel.source.as_str().to_owned(),
        opt(r.skill_group.as_ref().map(|g| g.id)),
        text(
            r.skill_group
                .as_ref()
                .and_then(|g| g.name.as_deref())
                .unwrap_or_default(),
        ),
        opt(r.agent.as_ref().map(|a| a.id)),
        text(
            r.agent
                .as_ref()
                .and_then(|a| a.staff_no.as_deref())
                .unwrap_or_default(),
        ),
        text(
            r.agent
                .as_ref()
                .and_then(|a| a.nickname.as_deref())
                .unwrap_or_default(),
        ),
        opt(r.transferred_from.as_ref().map(|t| t.record_id)),
        opt(r.transferred_to.as_ref().map(|t| t.record_id)),
        opt(sat.and_then(|s| s.score)),
        text(sat.and_then(|s| s.label.as_deref()).unwrap_or_default()),
        text(sat.and_then(|s| s.comment.as_deref()).unwrap_or_default()),
        r.messages.user.to_string(),
        r.messages.bot.to_string(),
        r.messages.agent.to_string(),
        r.messages.system.to_string(),
        r.bot_only.to_string(),
        stamp(r.queued_at),
        stamp(r.accepted_at),
    ]
}

fn csv_line(fields: &[impl AsRef<[u8]>]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    // Writing to memory fails only on a broken invariant; an empty line is the
    // harmless answer then.
    if w.write_record(fields).is_err() {
        return Vec::new();
    }
    w.into_inner().unwrap_or_default()
}

/// What a file starts with: the CSV's byte-order mark and header line.
pub fn start(format: Format) -> Vec<u8> {
    match format {
        Format::Csv => {
            let mut out = "\u{feff}".as_bytes().to_vec();
            out.extend(csv_line(&COLUMNS));
            out
        }
        Format::Jsonl => Vec::new(),
    }
}

/// One record's line.
pub fn line(format: Format, r: &Record) -> Vec<u8> {
    match format {
        Format::Csv => csv_line(&fields(r)),
        Format::Jsonl => {
            let mut out = serde_json::to_vec(r).unwrap_or_default();
            out.push(b'\n');
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::Stored;

    #[test]
    fn csv_quotes_what_needs_it_and_defuses_formulas() {
        let r = Record::from(&Stored {
            user_id: "u1".into(),
            user_nickname: "=HYPERLINK(\"x\")".into(),
            survey_comment: Some("好, \"很好\"\n谢谢".into()),
            survey_score: Some(5),
            status: "ended".into(),
            ..Stored::default()
        });
        let row = String::from_utf8(line(Format::Csv, &r)).unwrap_or_default();
        assert!(row.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{row}");
        assert!(row.contains("\"好, \"\"很好\"\"\n谢谢\""), "{row}");
        assert!(row.ends_with("\r\n"));
        assert_eq!(fields(&r).len(), COLUMNS.len());
        assert!(start(Format::Csv).starts_with(&[0xef, 0xbb, 0xbf]));
    }
}

//! `/api/v1/records`: service records, one per session leg, newest first, paged by
//! cursor; one record; and the filtered records exported as CSV or JSON lines. For
//! supervisors (their skill groups' records, by the one visibility rule) and admins.
//! A record's transcript is its session's (`GET /api/v1/sessions/{id}/messages`).

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::error::{Error, ErrorBody, NotFoundAs, Result};
use super::extract::{Id, Query, Supervisor};
use crate::directory::FieldErrors;
use crate::records::export::{self, Format};
use crate::records::{Record, buckets::start_of_day};
use crate::sessions::Visibility;
use crate::state::AppState;
use crate::store::records::{self as store, After, RecordFilter};
use crate::store::{TenantId, tenants};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_records))
        .routes(routes!(export_records))
        .routes(routes!(get_record))
}

/// Which records; every filter is optional.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecordQuery {
    /// Started at or after: RFC 3339, or a date (its start in the tenant's time zone).
    #[param(
        pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2}))?$"
    )]
    pub from: Option<String>,
    /// Started before: RFC 3339, or a date (up to its end in the tenant's time zone).
    #[param(
        pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2}))?$"
    )]
    pub to: Option<String>,
    pub channel_id: Option<Uuid>,
    pub skill_group_id: Option<Uuid>,
    pub agent_id: Option<Uuid>,
    /// TCCC end status (0, 1, 3, 17, 100, 101, 102, 108).
    #[param(minimum = 0, maximum = 65535)]
    pub end_status: Option<i32>,
    #[param(min_length = 1, max_length = 128)]
    pub user_id: Option<String>,
    /// The conversation: every leg of one session.
    pub session_id: Option<Uuid>,
    /// Only rated (`true`) or unrated (`false`) records.
    pub rated: Option<bool>,
    /// Only records rated with this score (1–5).
    #[param(minimum = 1, maximum = 5)]
    pub score: Option<i16>,
    /// Lists only: where the page starts (`next_cursor` of the page before).
    pub cursor: Option<String>,
    /// Lists only: records per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// Exports only: `csv` (default) or `jsonl`.
    #[param(inline)]
    pub format: Option<Format>,
}

/// A page of records.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordPage {
    pub items: Vec<Record>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A bound of a time range: an instant, or a local date's start (`end_of_day`: the
/// next day's start).
fn bound(
    text: &str,
    tz: chrono_tz::Tz,
    end_of_day: bool,
) -> std::result::Result<i64, &'static str> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc).timestamp_millis());
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| "must be an RFC 3339 time or a date (YYYY-MM-DD)")?;
    let date = if end_of_day {
        date.succ_opt().ok_or("is out of range")?
    } else {
        date
    };
    start_of_day(tz, date)
        .map(|t| t.timestamp_millis())
        .ok_or("is out of range")
}

fn encode_cursor(r: &Record) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}.{}", r.started_at.timestamp_millis(), r.id))
}

fn decode_cursor(text: &str) -> Option<After> {
    let raw = URL_SAFE_NO_PAD.decode(text).ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let (ms, id) = raw.split_once('.')?;
    Some(After {
        started_ms: ms.parse().ok()?,
        id: Uuid::parse_str(id).ok()?,
    })
}

/// The filter a query asks for, checked; `list` says whether paging or exporting.
async fn filter(
    state: &AppState,
    tenant: TenantId,
    q: &RecordQuery,
    list: bool,
) -> Result<RecordFilter> {
    let mut errors = FieldErrors::new();
    let tz: chrono_tz::Tz = tenants::get(&state.db, tenant)
        .await?
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::Asia::Shanghai);
    let mut from_ms = None;
    let mut to_ms = None;
    if let Some(t) = &q.from {
        match bound(t, tz, false) {
            Ok(ms) => from_ms = Some(ms),
            Err(e) => errors.add("from", e),
        }
    }
    if let Some(t) = &q.to {
        match bound(t, tz, true) {
            Ok(ms) => to_ms = Some(ms),
            Err(e) => errors.add("to", e),
        }
    }
    if q.user_id
        .as_ref()
        .is_some_and(|u| u.is_empty() || u.len() > 128)
    {
        errors.add("user_id", "must be 1 to 128 bytes");
    }
    if q.score.is_some_and(|s| !(1..=5).contains(&s)) {
        errors.add("score", "must be between 1 and 5");
    }
    if q.end_status.is_some_and(|s| !(0..=65535).contains(&s)) {
        errors.add("end_status", "must be a TCCC end status");
    }
    if list {
        if q.format.is_some() {
            errors.add("format", "is for exports (/api/v1/records/export)");
        }
        if q.limit.is_some_and(|l| l == 0 || l > 100) {
            errors.add("limit", "must be between 1 and 100");
        }
        if q.cursor
            .as_deref()
            .is_some_and(|c| decode_cursor(c).is_none())
        {
            errors.add("cursor", "is not a cursor this API gave");
        }
    } else if q.cursor.is_some() || q.limit.is_some() {
        errors.add(
            "cursor",
            "exports are not paged: leave out cursor and limit",
        );
    }
    errors.into_result()?;
    Ok(RecordFilter {
        from_ms,
        to_ms,
        channel_id: q.channel_id,
        skill_group_id: q.skill_group_id,
        agent_id: q.agent_id,
        end_status: q.end_status,
        user_id: q.user_id.clone(),
        session_id: q.session_id,
        rated: q.rated,
        score: q.score,
    })
}

/// Service records, newest first, paged by cursor.
#[utoipa::path(
    get,
    path = "/api/v1/records",
    tag = "records",
    security(("bearer" = ["supervisor"])),
    params(RecordQuery),
    responses((status = 200, body = RecordPage), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
async fn list_records(
    State(state): State<AppState>,
    Supervisor(auth): Supervisor,
    Query(q): Query<RecordQuery>,
) -> Result<axum::Json<RecordPage>> {
    let filter = filter(&state, auth.tenant, &q, true).await?;
    let limit = q.limit.unwrap_or(20);
    let after = q.cursor.as_deref().and_then(decode_cursor);
    let who = auth.visibility(&state).await?;
    let mut rows = store::list(&state.db, auth.tenant, &who, &filter, after, limit + 1).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let items: Vec<Record> = rows.iter().map(Record::from).collect();
    let next_cursor = if more {
        items.last().map(encode_cursor)
    } else {
        None
    };
    Ok(axum::Json(RecordPage { items, next_cursor }))
}

/// One service record.
#[utoipa::path(
    get,
    path = "/api/v1/records/{id}",
    tag = "records",
    security(("bearer" = ["supervisor"])),
    params(("id" = Uuid, Path, description = "Record (session leg) id")),
    responses((status = 200, body = Record), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
async fn get_record(
    State(state): State<AppState>,
    Supervisor(auth): Supervisor,
    Id(id): Id,
) -> Result<axum::Json<Record>> {
    let who = auth.visibility(&state).await?;
    let r = store::get(&state.db, auth.tenant, id, &who)
        .await
        .or_not_found("record")?;
    Ok(axum::Json(Record::from(&r)))
}

/// Records read per page of an export.
const EXPORT_PAGE: u64 = 500;
/// The most records one export holds.
const EXPORT_MAX: u64 = 1_000_000;
/// Exports one tenant may run at once (on this node).
const EXPORTS_AT_ONCE: usize = 2;

/// The filtered records as a file, streamed: CSV (UTF-8 with a byte-order mark) or
/// JSON lines, newest first, at most 1,000,000 records.
#[utoipa::path(
    get,
    path = "/api/v1/records/export",
    tag = "records",
    security(("bearer" = ["supervisor"])),
    params(RecordQuery),
    responses(
        (status = 200, description = "The records, as `text/csv` or `application/x-ndjson`", content_type = "text/csv"),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody),
    )
)]
async fn export_records(
    State(state): State<AppState>,
    Supervisor(auth): Supervisor,
    Query(q): Query<RecordQuery>,
) -> Result<Response> {
    let filter = filter(&state, auth.tenant, &q, false).await?;
    let format = q.format.unwrap_or(Format::Csv);
    let who = auth.visibility(&state).await?;
    let slot = state
        .records
        .start_export(auth.tenant, EXPORTS_AT_ONCE)
        .ok_or_else(|| {
            Error::bad_request_status(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_exports",
                "this tenant is exporting already; try again when it is done",
            )
        })?;
    let pages = Pages {
        state,
        tenant: auth.tenant,
        who,
        filter,
        format,
        after: None,
        sent: 0,
        started: false,
        done: false,
        _slot: slot,
    };
    let stream = futures_util::stream::unfold(pages, |mut p| async move {
        let chunk = p.next().await?;
        Some((Ok::<Bytes, std::io::Error>(chunk), p))
    });
    let filename = format!(
        "kefu-records-{}.{}",
        Utc::now().format("%Y%m%d-%H%M%S"),
        format.extension()
    );
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// An export in progress, a page at a time.
struct Pages {
    state: AppState,
    tenant: TenantId,
    who: Visibility,
    filter: RecordFilter,
    format: Format,
    after: Option<After>,
    sent: u64,
    started: bool,
    done: bool,
    /// Holds the export's place until the stream ends.
    _slot: crate::records::live::Slot,
}

impl Pages {
    async fn next(&mut self) -> Option<Bytes> {
        if self.done {
            return None;
        }
        let mut out = Vec::new();
        if !self.started {
            self.started = true;
            out = export::start(self.format);
        }
        let limit = EXPORT_PAGE.min(EXPORT_MAX - self.sent);
        let rows = match store::list(
            &self.state.db,
            self.tenant,
            &self.who,
            &self.filter,
            self.after,
            limit,
        )
        .await
        {
            Ok(rows) => rows,
            Err(e) => {
                // The answer has begun: the file ends here, and the log says why.
                tracing::error!(error = %e, "reading records for an export failed");
                self.done = true;
                return Some(Bytes::from(out));
            }
        };
        for r in &rows {
            out.extend(export::line(self.format, &Record::from(r)));
        }
        self.sent += rows.len() as u64;
        self.after = rows.last().map(|r| After {
            started_ms: r.started_ms,
            id: r.id,
        });
        if (rows.len() as u64) < limit || self.sent >= EXPORT_MAX {
            self.done = true;
        }
        Some(Bytes::from(out))
    }
}

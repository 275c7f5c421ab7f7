//! `service-time`: weekly hours (several ranges a day, ranges across midnight),
//! special dates and holidays, the tenant's or an overriding time zone, the closed
//! message and the variable.

use kefu_tests::modules::Harness;
use serde_json::{Value, json};

/// Weekdays 09:00–12:00 and 13:30–18:00, Friday night 22:00–02:00, Saturday
/// mornings; the National Day week closed; a make-up working Sunday.
fn office() -> Value {
    let day = json!([{"start": "09:00", "end": "12:00"}, {"start": "13:30", "end": "18:00"}]);
    json!({
        "weekly": {
            "monday": day, "tuesday": day, "wednesday": day, "thursday": day,
            "friday": [{"start": "09:00", "end": "18:00"}, {"start": "22:00", "end": "02:00"}],
            "saturday": [{"start": "10:00", "end": "12:00"}]
        },
        "special_dates": [
            {"date": "2026-10-01", "end_date": "2026-10-07", "name": "国庆节"},
            {"date": "2026-09-27", "name": "调休上班", "hours": [{"start": "09:00", "end": "18:00"}]}
        ],
        "closed_message": "${SystemClientNickName}您好，现在是非工作时间${SpecialDateName}。",
        "variable": "in_service"
    })
}

/// The exit taken at `local` (Asia/Shanghai, the conversation's zone; empty if the
/// step did not leave), with the texts.
async fn at(h: &Harness, config: &Value, local: &str) -> (String, Vec<String>) {
    h.world.set_local("Asia/Shanghai", local);
    let mut c = h.conversation("service-time", config.clone()).await;
    let step = c.enter().await;
    (step.exit().unwrap_or_default().to_owned(), step.texts())
}

#[tokio::test]
async fn opens_within_the_weekly_ranges() {
    let h = Harness::new();
    let config = office();
    // 2026-11-23 is a Monday.
    for (local, exit) in [
        ("2026-11-23 08:59", "closed"),
        ("2026-11-23 09:00", "open"),
        ("2026-11-23 12:00", "closed"),
        ("2026-11-23 13:30", "open"),
        ("2026-11-23 17:59", "open"),
        ("2026-11-23 18:00", "closed"),
        ("2026-11-28 11:00", "open"),
        ("2026-11-29 11:00", "closed"),
    ] {
        assert_eq!(at(&h, &config, local).await.0, exit, "{local}");
    }
}

#[tokio::test]
async fn sends_the_closed_message_and_sets_the_variable() {
    let h = Harness::new();
    h.world.set_local("Asia/Shanghai", "2026-11-23 20:00");
    let mut c = h.conversation("service-time", office()).await;
    let step = c.enter().await;
    assert_eq!(step.exit(), Some("closed"));
    assert_eq!(step.texts(), ["小明您好，现在是非工作时间。"]);
    assert_eq!(
        step.set_variables(),
        [("in_service".to_owned(), json!(false))]
    );

    h.world.set_local("Asia/Shanghai", "2026-11-23 10:00");
    let step = c.enter().await;
    assert_eq!(step.exit(), Some("open"));
    assert!(step.texts().is_empty());
    assert_eq!(c.variable("in_service"), Some(json!(true)));
}

#[tokio::test]
async fn a_range_ending_before_it_starts_crosses_midnight() {
    let h = Harness::new();
    let config = office();
    // Friday 2026-11-27 22:00 until Saturday 02:00.
    assert_eq!(at(&h, &config, "2026-11-27 21:59").await.0, "closed");
    assert_eq!(at(&h, &config, "2026-11-27 23:00").await.0, "open");
    assert_eq!(at(&h, &config, "2026-11-28 01:59").await.0, "open");
    assert_eq!(at(&h, &config, "2026-11-28 02:00").await.0, "closed");
    // Thursday night is closed.
    assert_eq!(at(&h, &config, "2026-11-27 01:00").await.0, "closed");
}

#[tokio::test]
async fn holidays_and_special_hours_replace_the_week() {
    let h = Harness::new();
    let config = office();
    // Monday 2026-10-05 falls in the National Day week.
    let (exit, texts) = at(&h, &config, "2026-10-05 10:00").await;
    assert_eq!(exit, "closed");
    assert_eq!(texts, ["小明您好，现在是非工作时间国庆节。"]);
    assert_eq!(at(&h, &config, "2026-10-07 10:00").await.0, "closed");
    assert_eq!(at(&h, &config, "2026-10-08 10:00").await.0, "open");
    // Sunday 2026-09-27 is a working day, hours 09:00–18:00.
    assert_eq!(at(&h, &config, "2026-09-27 12:30").await.0, "open");
    assert_eq!(at(&h, &config, "2026-09-27 18:30").await.0, "closed");
}

#[tokio::test]
async fn reads_hours_in_the_tenant_zone_or_the_configured_one() {
    let h = Harness::new();
    let hours = json!({"weekly": {"monday": [{"start": "09:00", "end": "17:00"}]}});
    // 2026-11-23 10:00 UTC: 18:00 in Shanghai, 11:00 in Berlin, 10:00 in London.
    h.world
        .set_now(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 23, 10, 0, 0).unwrap());
    let mut c = h.conversation("service-time", hours.clone()).await;
    assert_eq!(c.enter().await.exit(), Some("closed"));
    c.time_zone = "Europe/London".into();
    assert_eq!(c.enter().await.exit(), Some("open"));

    let mut berlin = hours.clone();
    berlin["time_zone"] = json!("Europe/Berlin");
    let mut c = h.conversation("service-time", berlin).await;
    assert_eq!(c.enter().await.exit(), Some("open"));
    let mut tokyo = hours;
    tokyo["time_zone"] = json!("Asia/Tokyo");
    let mut c = h.conversation("service-time", tokyo).await;
    assert_eq!(c.enter().await.exit(), Some("closed"));
}

#[tokio::test]
async fn refuses_bad_configuration_with_precise_paths() {
    let h = Harness::new();
    let exits = h.validate("service-time", &office()).await.unwrap();
    let names: Vec<&str> = exits.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["open", "closed"]);

    let found = h
        .validate("service-time", &json!({"weekly": {"funday": []}}))
        .await
        .unwrap_err();
    assert_eq!(found[0].path, "/weekly/funday");
    assert!(
        found[0].message.contains("unknown field `funday`"),
        "{found:?}"
    );

    let found = h
        .validate(
            "service-time",
            &json!({
                "weekly": {"tuesday": [
                    {"start": "09:00", "end": "12:00"},
                    {"start": "11:00", "end": "25:00"},
                    {"start": "11:30", "end": "13:00"},
                    {"start": "14:00", "end": "14:00"}
                ]},
                "special_dates": [
                    {"date": "2026-10-01", "end_date": "2026-10-07"},
                    {"date": "2026-10-03", "name": "重叠"},
                    {"date": "2026-02-29"},
                    {"date": "2026-05-05", "end_date": "2026-05-01"}
                ],
                "time_zone": "Asia/Beijing"
            }),
        )
        .await
        .unwrap_err();
    let found: Vec<(String, String)> = found.into_iter().map(|p| (p.path, p.message)).collect();
    assert_eq!(
        found,
        [
            (
                "/weekly/tuesday/1/end".to_owned(),
                "`25:00` is not a time; expected HH:MM, 00:00 to 24:00".to_owned()
            ),
            (
                "/weekly/tuesday/2".to_owned(),
                "overlaps the range /weekly/tuesday/0 (09:00–12:00)".to_owned()
            ),
            (
                "/weekly/tuesday/3/end".to_owned(),
                "must differ from the start; for a whole day write 00:00 to 24:00".to_owned()
            ),
            (
                "/special_dates/1/date".to_owned(),
                "overlaps /special_dates/0 (2026-10-01 to 2026-10-07)".to_owned()
            ),
            (
                "/special_dates/2/date".to_owned(),
                "`2026-02-29` is not a date; expected YYYY-MM-DD".to_owned()
            ),
            (
                "/special_dates/3/end_date".to_owned(),
                "is before the date 2026-05-05".to_owned()
            ),
            (
                "/time_zone".to_owned(),
                "`Asia/Beijing` is not a known IANA time zone, such as Asia/Shanghai".to_owned()
            ),
        ]
    );
}

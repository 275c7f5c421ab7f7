//! `sendmsg`: requests parsed and refused with IM's codes, answers, the query string.

use serde_json::{Value, json};

use crate::flow::{CustomElement, MessageElement};
use crate::im::usersig;
use crate::im::wire::*;

/// The request of REFERENCE.md §1, as an app server sends it.
const SENDMSG: &str = r#"{
    "SyncOtherMachine": 2,
    "From_Account": "user_42",
    "To_Account": "kefu_virtual_1",
    "MsgLifeTime": 60,
    "MsgSeq": 93847636,
    "MsgRandom": 1287657,
    "ForbidCallbackControl": ["ForbidBeforeSendMsgCallback", "ForbidAfterSendMsgCallback"],
    "MsgBody": [
        {"MsgType": "TIMTextElem", "MsgContent": {"Text": "你好，我要退款"}},
        {"MsgType": "TIMCustomElem", "MsgContent": {"Data": "{\"order\":7}", "Desc": "", "Ext": "", "Sound": ""}}
    ],
    "CloudCustomData": "opaque string"
}"#;

/// `body` with `edit` applied to its JSON.
fn edited(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v: Value = serde_json::from_str(SENDMSG).expect("json");
    edit(&mut v);
    v.to_string().into_bytes()
}

fn code(body: &[u8]) -> u32 {
    parse_sendmsg(body).expect_err("refused").code
}

#[test]
fn parses_the_reference_request() {
    let req = parse_sendmsg(SENDMSG.as_bytes()).expect("valid");
    assert_eq!(req.sync_other_machine, Some(2));
    assert_eq!(req.from_account.as_deref(), Some("user_42"));
    assert_eq!(req.to_account, "kefu_virtual_1");
    assert_eq!(req.msg_life_time, Some(60));
    assert_eq!(req.msg_seq, Some(93_847_636));
    assert_eq!(req.msg_random, 1_287_657);
    assert_eq!(req.forbid_callback_control.len(), 2);
    assert_eq!(req.cloud_custom_data.as_deref(), Some("opaque string"));
    assert_eq!(plain_text(&req.msg_body), "你好，我要退款");
    assert_eq!(
        to_message_elements(&req.msg_body),
        vec![
            MessageElement::Text("你好，我要退款".into()),
            MessageElement::Custom(CustomElement {
                data: r#"{"order":7}"#.into(),
                desc: String::new(),
                ext: String::new(),
            }),
        ]
    );
    // Written back, it reads the same.
    let again = serde_json::to_vec(&req).expect("serialize");
    assert_eq!(parse_sendmsg(&again).expect("valid"), req);
}

#[test]
fn minimal_request_is_from_the_administrator() {
    let body = br#"{"To_Account":"u1","MsgRandom":1,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]}"#;
    let req = parse_sendmsg(body).expect("valid");
    assert_eq!(req.from_account, None);
    let written = serde_json::to_value(&req).expect("serialize");
    assert_eq!(
        written,
        json!({"To_Account":"u1","MsgRandom":1,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]})
    );
    let empty_sender = edited(|v| v["From_Account"] = json!(""));
    assert_eq!(
        parse_sendmsg(&empty_sender).expect("valid").from_account,
        None
    );
}

#[test]
fn every_element_type_is_accepted_and_kept() {
    let body = json!({"To_Account": "u1", "MsgRandom": 5, "MsgBody": [
        {"MsgType": "TIMFaceElem", "MsgContent": {"Index": 1, "Data": "content"}},
        {"MsgType": "TIMLocationElem", "MsgContent": {"Desc": "someinfo", "Latitude": 29.34, "Longitude": 116.77}},
        {"MsgType": "TIMImageElem", "MsgContent": {"UUID": "1853095_D61040894AC3DE44CDFFFB3EC7EB720F", "ImageFormat": 1,
            "ImageInfoArray": [{"Type": 1, "Size": 1853095, "Width": 2448, "Height": 3264, "URL": "https://example.com/a.jpg"}]}},
        {"MsgType": "TIMFileElem", "MsgContent": {"Url": "https://example.com/f", "UUID": "f1", "FileSize": 1773552, "FileName": "a.pdf", "Download_Flag": 2}},
        {"MsgType": "TIMSoundElem", "MsgContent": {"Url": "https://example.com/s", "UUID": "s1", "Size": 62351, "Second": 1, "Download_Flag": 2}},
        {"MsgType": "TIMVideoFileElem", "MsgContent": {"VideoUrl": "https://example.com/v", "VideoUUID": "v1", "VideoSize": 1194603,
            "VideoSecond": 5, "VideoFormat": "mp4", "VideoDownloadFlag": 2, "ThumbUrl": "https://example.com/t", "ThumbUUID": "t1",
            "ThumbSize": 13907, "ThumbWidth": 720, "ThumbHeight": 1280, "ThumbFormat": "JPG", "ThumbDownloadFlag": 2}},
        {"MsgType": "TIMRelayElem", "MsgContent": {"Title": "chat history", "MsgNum": 2}}
    ]});
    let req = parse_sendmsg(body.to_string().as_bytes()).expect("valid");
    let kinds: Vec<Elem> = req
        .msg_body
        .iter()
        .map(|e| e.decode().expect("typed"))
        .collect();
    assert!(matches!(&kinds[0], Elem::Face(f) if f.index == 1));
    assert!(matches!(&kinds[1], Elem::Location(l) if l.desc == "someinfo"));
    assert!(matches!(&kinds[2], Elem::Image(i) if i.image_info_array[0].width == 2448));
    assert!(matches!(&kinds[3], Elem::File(f) if f.download_flag == 2 && f.file_name == "a.pdf"));
    assert!(matches!(&kinds[4], Elem::Sound(s) if s.second == 1));
    assert!(matches!(&kinds[5], Elem::Video(v) if v.thumb_height == 1280 && v.video_uuid == "v1"));
    assert!(matches!(&kinds[6], Elem::Other { msg_type, .. } if msg_type == "TIMRelayElem"));
    assert_eq!(plain_text(&req.msg_body), "");
    let kefu = to_message_elements(&req.msg_body);
    let MessageElement::Other { msg_type, content } = &kefu[6] else {
        panic!("kept as another element: {:?}", kefu[6]);
    };
    assert_eq!(msg_type, "TIMRelayElem");
    let content: Value = serde_json::from_str(content).expect("JSON text");
    assert_eq!(content, json!({"Title": "chat history", "MsgNum": 2}));
    // The raw content survives, whatever its type.
    assert_eq!(
        serde_json::to_value(&req).expect("ser")["MsgBody"],
        body["MsgBody"]
    );
    assert_eq!(from_message_element(&kefu[6]), req.msg_body[6]);
}

#[test]
fn malformed_requests_get_ims_codes() {
    assert_eq!(code(b"not json"), 90001);
    assert_eq!(code(b"[1,2]"), 90001);
    assert_eq!(code(&edited(|v| v["To_Account"] = Value::Null)), 90003);
    assert_eq!(code(&edited(|v| v["To_Account"] = json!(""))), 90003);
    assert_eq!(code(&edited(|v| v["To_Account"] = json!(42))), 90003);
    assert_eq!(
        code(&edited(|v| v["To_Account"] = json!("x".repeat(33)))),
        90003
    );
    assert!(parse_sendmsg(&edited(|v| v["To_Account"] = json!("x".repeat(32)))).is_ok());
    assert_eq!(
        code(&edited(|v| v["From_Account"] = json!("y".repeat(33)))),
        90008
    );
    assert_eq!(code(&edited(|v| v["From_Account"] = json!(7))), 90008);
    assert_eq!(
        code(&edited(|v| v
            .as_object_mut()
            .map(|o| o.remove("MsgRandom"))
            .map(drop)
            .unwrap_or(()))),
        90005
    );
    assert_eq!(code(&edited(|v| v["MsgRandom"] = json!("12"))), 90005);
    assert_eq!(
        code(&edited(|v| v["MsgRandom"] = json!(4_294_967_296u64))),
        90005
    );
    assert_eq!(code(&edited(|v| v["MsgBody"] = Value::Null)), 90002);
    assert_eq!(code(&edited(|v| v["MsgBody"] = json!([]))), 90002);
    assert_eq!(
        code(&edited(|v| v["MsgBody"] = json!({"MsgType": "TIMTextElem"}))),
        90007
    );
    assert_eq!(
        code(&edited(
            |v| v["MsgBody"] = json!([{"MsgContent": {"Text": "a"}}])
        )),
        90002
    );
    assert_eq!(
        code(&edited(
            |v| v["MsgBody"] = json!([{"MsgType": "TIMTextElem"}])
        )),
        90002
    );
    assert_eq!(
        code(&edited(
            |v| v["MsgBody"] = json!([{"MsgType": "TIMTextElem", "MsgContent": "a"}])
        )),
        90002
    );
    assert_eq!(
        code(&edited(
            |v| v["MsgBody"] = json!([{"MsgType": "TIMTextElem", "MsgContent": {}}])
        )),
        90002
    );
    assert_eq!(
        code(&edited(
            |v| v["MsgBody"] = json!([{"MsgType": "TIMTextElem", "MsgContent": {"Text": 5}}])
        )),
        90002
    );
    assert_eq!(
        code(&edited(
            |v| v["MsgBody"] = json!([{"MsgType": "TIMFaceElem", "MsgContent": {"Index": "one"}}])
        )),
        90002
    );
    let custom = json!({"MsgType": "TIMCustomElem", "MsgContent": {"Data": "a"}});
    assert_eq!(
        code(&edited(|v| v["MsgBody"] = json!([custom, custom]))),
        90002
    );
    let text = json!({"MsgType": "TIMTextElem", "MsgContent": {"Text": "a"}});
    assert_eq!(
        code(&edited(
            |v| v["MsgBody"] = json!(vec![text.clone(); MAX_ELEMENTS + 1])
        )),
        90002
    );
    assert!(parse_sendmsg(&edited(|v| v["MsgBody"] = json!(vec![text; MAX_ELEMENTS]))).is_ok());
    assert_eq!(code(&edited(|v| v["SyncOtherMachine"] = json!("2"))), 90031);
    assert_eq!(code(&edited(|v| v["MsgLifeTime"] = json!(1.5))), 90044);
    assert_eq!(code(&edited(|v| v["MsgLifeTime"] = json!(604_801))), 90026);
    assert!(parse_sendmsg(&edited(|v| v["MsgLifeTime"] = json!(604_800))).is_ok());
    assert_eq!(code(&edited(|v| v["MsgSeq"] = json!(-1))), 90010);
    assert_eq!(
        code(&edited(|v| v["CloudCustomData"] = json!({"a": 1}))),
        90010
    );
    assert_eq!(
        code(&edited(|v| v["ForbidCallbackControl"] = json!("x"))),
        90010
    );
    assert_eq!(
        code(&edited(
            |v| v["SendMsgControl"] = json!(vec!["NoUnread"; MAX_CONTROLS + 1])
        )),
        90010
    );
}

#[test]
fn sizes_are_bounded() {
    let text =
        |n: usize| json!([{"MsgType": "TIMTextElem", "MsgContent": {"Text": "a".repeat(n)}}]);
    assert!(parse_sendmsg(&edited(|v| v["MsgBody"] = text(10_000))).is_ok());
    assert_eq!(
        code(&edited(|v| v["MsgBody"] = text(MAX_MSG_CONTENT_BYTES))),
        93000
    );
    // The custom data counts towards the same 12 KB.
    assert_eq!(
        code(&edited(|v| {
            v["MsgBody"] = text(7_000);
            v["CloudCustomData"] = json!("c".repeat(7_000));
        })),
        93000
    );
    let huge = vec![b' '; MAX_BODY_BYTES + 1];
    assert_eq!(code(&huge), 93000);
}

#[test]
fn answers_have_ims_shape() {
    let ok =
        serde_json::to_value(ok_response(1_572_870_301, "89541_2574206_1572870301")).expect("ser");
    assert_eq!(
        ok,
        json!({"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"MsgTime":1572870301,"MsgKey":"89541_2574206_1572870301"})
    );
    let fail = serde_json::to_string(&fail_response(&ImError::invalid_json())).expect("ser");
    assert_eq!(
        fail,
        r#"{"ActionStatus":"FAIL","ErrorInfo":"Fail to Parse json data of body, Please check it","ErrorCode":90001}"#
    );
    let parsed: SendMsgResponse = serde_json::from_str(&fail).expect("parse");
    assert_eq!(parsed.error(), Some(ImError::invalid_json()));
    assert_eq!(ok_response(1, "k").error(), None);
    assert_eq!(
        serde_json::to_value(CallbackResponse::ok()).expect("ser"),
        json!({"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0})
    );
    assert_eq!(
        msg_key(48_374, 2_837_546, 1_557_481_126),
        "48374_2837546_1557481126"
    );
}

#[test]
fn query_string_is_validated() {
    let sig = usersig::generate(1_400_000_001, "key", "administrator", 3600, 1_000);
    let raw = sendmsg_query_string(1_400_000_001, "administrator", &sig, 99);
    let q = SendMsgQuery::parse(&raw)
        .expect("parse")
        .validate()
        .expect("valid");
    assert_eq!(q.sdkappid, 1_400_000_001);
    assert_eq!(q.random, 99);
    assert_eq!(q.usersig, sig);
    // One memory of verified UserSigs for every check: once the UserSig passed, another
    // application, account or key, or a time past its expiry, still fails.
    let sigs = crate::im::usersig::Remembered::default();
    assert!(
        q.authenticate(&sigs, 1_400_000_001, "key", "administrator", 1_000)
            .is_ok()
    );
    assert_eq!(
        q.authenticate(&sigs, 1_400_000_002, "key", "administrator", 1_000)
            .map_err(|e| e.code),
        Err(70020)
    );
    assert_eq!(
        q.authenticate(&sigs, 1_400_000_001, "key", "someone", 1_000)
            .map_err(|e| e.code),
        Err(60010)
    );
    assert_eq!(
        q.authenticate(&sigs, 1_400_000_001, "other", "administrator", 1_000)
            .map_err(|e| e.code),
        Err(70009)
    );
    assert_eq!(
        q.authenticate(&sigs, 1_400_000_001, "key", "administrator", 5_000)
            .map_err(|e| e.code),
        Err(70001)
    );

    let check = |raw: &str| {
        SendMsgQuery::parse(raw)
            .and_then(|q| q.validate())
            .map(drop)
            .map_err(|e| e.code)
    };
    assert_eq!(check("identifier=a&usersig=s&random=1"), Err(60012));
    assert_eq!(
        check("sdkappid=x&identifier=a&usersig=s&random=1"),
        Err(60002)
    );
    assert_eq!(check("sdkappid=1&usersig=s&random=1"), Err(60004));
    assert_eq!(check("sdkappid=1&identifier=a&random=1"), Err(60004));
    assert_eq!(check("sdkappid=1&identifier=a&usersig=s"), Err(60002));
    assert_eq!(
        check("sdkappid=1&identifier=a&usersig=s&random=-3"),
        Err(60002)
    );
    assert_eq!(
        check("sdkappid=1&identifier=a&usersig=s&random=3&contenttype=xml"),
        Err(60002)
    );
    assert_eq!(
        check("sdkappid=1&identifier=a&usersig=s&random=3&contenttype=JSON"),
        Ok(())
    );
    assert_eq!(check("sdkappid=1&identifier=a&usersig=s&random=3"), Ok(()));
    assert_eq!(
        check("sdkappid=1&sdkappid=2&identifier=a&usersig=s&random=3"),
        Err(60002)
    );
}

//! The `C2C.CallbackAfterSendMsg` callback, its query and its signature.

use serde_json::{Value, json};

use crate::flow::MessageElement;
use crate::im::wire::*;

/// The callback of REFERENCE.md §1.
const CALLBACK: &str = r#"{
    "CallbackCommand": "C2C.CallbackAfterSendMsg",
    "From_Account": "user_42", "To_Account": "kefu_virtual_1",
    "MsgSeq": 48374, "MsgRandom": 2837546, "MsgTime": 1557481126,
    "MsgKey": "48374_2837546_1557481126", "MsgId": "144115217363213048-1557481126-2837546", "OnlineOnlyFlag": 0,
    "SendMsgResult": 0, "ErrorInfo": "send msg succeed", "UnreadMsgNum": 0,
    "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "red packet"}}],
    "CloudCustomData": ""
}"#;

#[test]
fn parses_the_reference_callback() {
    let cb = parse_after_send_callback(CALLBACK.as_bytes()).expect("valid");
    assert_eq!(cb.from_account, "user_42");
    assert_eq!(cb.to_account, "kefu_virtual_1");
    assert_eq!(cb.msg_key, msg_key(cb.msg_seq, cb.msg_random, cb.msg_time));
    assert_eq!(cb.send_msg_result, 0);
    let m = to_user_message(&cb.msg_body, 1_557_481_126_000);
    assert_eq!(m.text, "red packet");
    assert_eq!(m.elements, vec![MessageElement::Text("red packet".into())]);

    let mut other: Value = serde_json::from_str(CALLBACK).expect("json");
    other["CallbackCommand"] = json!("C2C.CallbackBeforeSendMsg");
    assert_eq!(
        parse_after_send_callback(other.to_string().as_bytes()).map_err(|e| e.code),
        Err(90010)
    );
    other["CallbackCommand"] = json!(AFTER_SEND_MSG_COMMAND);
    other["MsgBody"] = json!("text");
    assert_eq!(
        parse_after_send_callback(other.to_string().as_bytes()).map_err(|e| e.code),
        Err(90007)
    );
    assert_eq!(
        parse_after_send_callback(b"{").map_err(|e| e.code),
        Err(90001)
    );
}

#[test]
fn callback_query_and_sign() {
    let now = 1_700_000_000u64;
    let t = now.to_string();
    let sign = callback_sign("my_token", &t);
    assert_eq!(sign.len(), 64);
    let raw = format!(
        "SdkAppid=1400000000&CallbackCommand=C2C.CallbackAfterSendMsg&contenttype=json&ClientIP=1.2.3.4&OptPlatform=RESTAPI&RequestTime={t}&Sign={sign}&Extra=1"
    );
    let q = CallbackQuery::parse(&raw).expect("parse");
    assert_eq!(q.sdkappid(), Some(1_400_000_000));
    assert_eq!(q.callback_command.as_deref(), Some(AFTER_SEND_MSG_COMMAND));
    assert_eq!(q.opt_platform.as_deref(), Some("RESTAPI"));
    assert_eq!(q.verify_sign("my_token", now + 60), Ok(()));
    assert_eq!(q.verify_sign("my_token", now - 60), Ok(()));
    assert!(matches!(
        q.verify_sign("my_token", now + 61),
        Err(CallbackSignError::Stale { .. })
    ));
    assert_eq!(
        q.verify_sign("other_token", now),
        Err(CallbackSignError::Mismatch)
    );
    assert_eq!(
        verify_callback_sign("my_token", &t, &sign.to_uppercase(), now),
        Ok(())
    );
    assert_eq!(
        verify_callback_sign("my_token", "soon", &sign, now),
        Err(CallbackSignError::Malformed)
    );
    assert_eq!(
        verify_callback_sign("my_token", &t, "", now),
        Err(CallbackSignError::Mismatch)
    );
    assert_eq!(
        CallbackQuery::default().verify_sign("my_token", now),
        Err(CallbackSignError::Missing)
    );
    // sha256("" + "0"): the rule is plain concatenation, hex encoded.
    assert_eq!(
        callback_sign("", "0"),
        "5feceb66ffc86f38d952786c6d696c79c2dbc239dd4e91b46729d73a27fb57e9"
    );
}

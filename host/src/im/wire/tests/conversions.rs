//! IM messages to kefu's flow types and back, and UserSig failures as IM's codes.

use serde_json::{Value, json};

use crate::flow::{Choice, CustomElement, MessageElement, Outgoing};
use crate::im::usersig::UserSigError;
use crate::im::wire::*;

#[test]
fn outgoing_messages_become_msg_bodies() {
    assert_eq!(
        outgoing_to_msg_body(&Outgoing::Text {
            text: "您好".into()
        }),
        vec![MsgElement::text("您好")]
    );

    let menu = Outgoing::Menu {
        title: "请选择服务".into(),
        choices: vec![
            Choice {
                id: "refund".into(),
                label: "退款".into(),
            },
            Choice {
                id: "human".into(),
                label: "人工客服".into(),
            },
        ],
    };
    let body = outgoing_to_msg_body(&menu);
    assert_eq!(body.len(), 2);
    assert_eq!(plain_text(&body), "请选择服务\n1. 退款\n2. 人工客服");
    let Ok(Elem::Custom(custom)) = body[1].decode() else {
        panic!("a custom element: {:?}", body[1]);
    };
    let data: Value = serde_json::from_str(&custom.data).expect("json data");
    assert_eq!(
        data,
        json!({"type": "kefu.menu", "title": "请选择服务", "choices": [
            {"id": "refund", "label": "退款"}, {"id": "human", "label": "人工客服"}]})
    );
    // What kefu sends passes the checks IM makes.
    let req = SendMsgRequest::new("user_42", 7, body);
    assert_eq!(req.validate(), Ok(()));
    assert_eq!(
        menu_text(
            "",
            &[Choice {
                id: "a".into(),
                label: "A".into()
            }]
        ),
        "1. A"
    );

    let custom = CustomElement {
        data: "{}".into(),
        desc: "d".into(),
        ext: "e".into(),
    };
    let body = outgoing_to_msg_body(&Outgoing::Custom(custom.clone()));
    assert_eq!(
        body,
        vec![MsgElement::new(
            CUSTOM_ELEM,
            json!({"Data": "{}", "Desc": "d", "Ext": "e", "Sound": ""})
        )]
    );
    assert_eq!(
        to_message_elements(&body),
        vec![MessageElement::Custom(custom)]
    );
}

#[test]
fn texts_are_concatenated() {
    let body = vec![
        MsgElement::text("hello "),
        MsgElement::new(FACE_ELEM, json!({"Index": 3, "Data": ""})),
        MsgElement::text("world"),
    ];
    assert_eq!(plain_text(&body), "hello world");
    assert!(
        matches!(&to_message_elements(&body)[1], MessageElement::Other { msg_type, .. } if msg_type == FACE_ELEM)
    );
    assert_eq!(
        from_message_element(&MessageElement::Text("x".into())),
        MsgElement::text("x")
    );
}

#[test]
fn usersig_failures_map_to_ims_codes() {
    let e = ImError::usersig(&UserSigError::Expired {
        expired_at: 1,
        now: 2,
    });
    assert_eq!(e.code, 70001);
    assert!(e.info.contains("expired"));
    assert_eq!(fail_response(&e).error_code, 70001);
}

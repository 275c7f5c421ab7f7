//! The web chat as a page speaks it: a WebSocket that says `hello` with the visitor's
//! secret token (or a site's identity token), then reads and writes JSON frames.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as Ws;

use crate::TestApp;

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A visitor token as a browser makes one (43 characters of base64url), distinct per
/// `seed`.
pub fn token(seed: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(seed.as_bytes());
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, digest)
}

/// Opens the channel's chat socket and says `hello` with `hello`'s fields.
pub async fn open(app: &TestApp, channel: &str, hello: Value) -> Socket {
    let url = format!("ws://{}/chat/{channel}/ws", app.addr);
    let (mut ws, _) = tokio_tungstenite::connect_async(&url)
        .await
        .expect("the chat socket opens");
    let mut frame = json!({"type": "hello"});
    for (k, v) in hello.as_object().expect("hello fields") {
        frame[k] = v.clone();
    }
    send(&mut ws, frame).await;
    ws
}

/// Opens the chat as the anonymous visitor whose token `seed` makes.
pub async fn visit(app: &TestApp, channel: &str, seed: &str, nickname: &str) -> Socket {
    open(
        app,
        channel,
        json!({"token": token(seed), "nickname": nickname}),
    )
    .await
}

pub async fn send(ws: &mut Socket, frame: Value) {
    ws.send(Ws::Text(frame.to_string().into()))
        .await
        .expect("sending a frame");
}

/// The next JSON frame (10 s at most).
pub async fn next_frame(ws: &mut Socket) -> Value {
    let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .expect("a frame in time")
        .expect("the socket is open")
        .expect("a frame");
    match frame {
        Ws::Text(t) => serde_json::from_str(&t).expect("a JSON frame"),
        other => panic!("unexpected frame {other:?}"),
    }
}

/// Reads frames until one satisfies `want`.
pub async fn frame_where(ws: &mut Socket, want: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..50 {
        let f = next_frame(ws).await;
        if want(&f) {
            return f;
        }
    }
    panic!("no such frame");
}

//! The reader against the bytes clients send: framings, limits and the faults refused.

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use super::response::answer_head;
use super::*;
use crate::contract::RecordedRequest;

/// What the reader makes of a connection that sends `bytes`.
async fn read(bytes: Vec<u8>) -> Incoming {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    // Written from a task of its own: a body past the limit outgrows the socket buffers. The
    // client sends nothing more, and says so.
    let writer = tokio::spawn(async move {
        let _ = client.write_all(&bytes).await;
        let _ = client.shutdown().await;
        client
    });
    let (server, _) = listener.accept().await.unwrap();
    let incoming = Reader::new(server)
        .request(false, async |_: &mut TcpStream| Ok(()))
        .await
        .unwrap()
        .unwrap();
    drop(writer);
    incoming
}

fn whole(incoming: Incoming) -> RecordedRequest {
    match incoming {
        Incoming::Request(head, Body::Whole { data, .. }) => head.record(data),
        Incoming::Request(_, Body::TooLarge { seen, .. }) => panic!("refused as too large: {seen}"),
        Incoming::Bad(_, why) => panic!("refused: {why}"),
    }
}

#[tokio::test]
async fn a_chunked_body_is_read_whole_with_extensions_and_trailers() {
    let bytes = b"POST /ams/api/v1/payments/cancel HTTP/1.1\r\nhost: x\r\nTransfer-Encoding: Chunked\r\n\r\n\
        5;ext=1\r\n{\"pay\r\nA\r\nmentId\":\"1\r\n2\r\n\"}\r\n0\r\ntrailer: t\r\n\r\n";
    let request = whole(read(bytes.to_vec()).await);
    assert_eq!(request.body, br#"{"paymentId":"1"}"#);
    assert_eq!(request.path, "/ams/api/v1/payments/cancel");
    assert_eq!(request.header("transfer-encoding"), Some("Chunked"));
}

#[tokio::test]
async fn a_chunked_body_past_the_limit_is_cut_there_and_refused() {
    let mut bytes =
        b"POST /ams/api/v1/payments/cancel HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    let chunk = vec![b'a'; 600 * 1024];
    for _ in 0..2 {
        bytes.extend(format!("{:x}\r\n", chunk.len()).bytes());
        bytes.extend(&chunk);
        bytes.extend(b"\r\n");
    }
    bytes.extend(b"0\r\n\r\n");
    match read(bytes).await {
        Incoming::Request(_, Body::TooLarge { data, seen, left }) => {
            assert_eq!(seen, format!("a chunked body past {MAX_BODY_BYTES} bytes"));
            assert_eq!(data.len(), MAX_BODY_BYTES);
            assert_eq!(left, None);
        }
        _ => panic!("a body over the limit was read whole"),
    }
}

#[tokio::test]
async fn a_declared_length_past_the_limit_is_refused_with_its_first_mib_kept() {
    let bytes = b"POST /ams/api/v1/payments/cancel HTTP/1.1\r\ncontent-length: 2000000\r\n\r\n{}";
    match read(bytes.to_vec()).await {
        Incoming::Request(_, Body::TooLarge { data, seen, left }) => {
            assert_eq!(seen, "Content-Length: 2000000");
            assert_eq!(data, b"{}", "what came before the client stopped");
            assert_eq!(left, Some(2_000_000 - 2));
        }
        _ => panic!("a body over the limit was read"),
    }
}

#[tokio::test]
async fn an_absolute_form_target_is_recorded_by_its_path_and_query() {
    let bytes = b"POST https://open-sea-global.alipay.com:443/ams/api/v1/payments/cancel?trace=a%2Bb HTTP/1.1\r\n\
        content-length: 2\r\n\r\n{}";
    let request = whole(read(bytes.to_vec()).await);
    assert_eq!(request.path, "/ams/api/v1/payments/cancel");
    assert_eq!(request.query.as_deref(), Some("trace=a%2Bb"));
    assert_eq!(request.query_param("trace").as_deref(), Some("a+b"));
    assert_eq!(request.body, b"{}");
    let path = crate::contract::request::path(&request, 1, "TEST_5YBZ1");
    assert!(path.held, "{path:?}");
}

#[tokio::test]
async fn blank_lines_before_a_request_are_skipped_and_pipelined_requests_read_in_turn() {
    let bytes = b"\r\n\r\nPOST /a HTTP/1.1\r\ncontent-length: 2\r\n\r\n{}GET /b HTTP/1.0\r\n\r\n";
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    client.write_all(bytes).await.unwrap();
    client.shutdown().await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    let mut reader = Reader::new(server);
    let mut next = async || {
        reader
            .request(false, async |_: &mut TcpStream| Ok(()))
            .await
    };
    let first = whole(next().await.unwrap().unwrap());
    assert_eq!(
        (first.path.as_str(), first.body.as_slice()),
        ("/a", &b"{}"[..])
    );
    match next().await.unwrap().unwrap() {
        Incoming::Request(head, _) => assert!(head.wants_close(), "HTTP/1.0 closes"),
        Incoming::Bad(_, why) => panic!("{why}"),
    }
    assert!(next().await.unwrap().is_none(), "a clean end");
}

#[tokio::test]
async fn a_cr_or_lf_inside_a_header_or_ambiguous_framing_is_refused_unread() {
    let cases: [(&[u8], &str); 8] = [
        (
            b"POST / HTTP/1.1\r\nclient-id: A\nset-cookie: x=1\r\ncontent-length: 0\r\n\r\n",
            "header `client-id`: a CR or LF",
        ),
        (
            b"POST / HTTP/1.1\r\nclient-id: A\rset-cookie: x=1\r\ncontent-length: 0\r\n\r\n",
            "header `client-id`: a CR or LF",
        ),
        (
            b"POST / HTTP/1.1\ncontent-length: 0\n\n",
            "inside the request line",
        ),
        (
            b"POST / HTTP/1.1\r\ncontent-length: -1\r\n\r\n",
            "`-1` is not a decimal length",
        ),
        (
            b"POST / HTTP/1.1\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}",
            "given twice, differently",
        ),
        (
            b"POST / HTTP/1.1\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n{}",
            "both Transfer-Encoding and Content-Length",
        ),
        (
            b"POST / HTTP/1.1\r\ntransfer-encoding: chunked, gzip\r\n\r\n",
            "does not end in chunked",
        ),
        (
            b"POST / HTTP/1.1\r\ncontent-length : 2\r\n\r\n{}",
            "white space between",
        ),
    ];
    for (bytes, why) in cases {
        match read(bytes.to_vec()).await {
            Incoming::Bad(request, said) => {
                assert!(said.to_string().contains(why), "{said} (wanted {why})");
                assert_eq!(request.method, "POST");
            }
            _ => panic!("read leniently: {}", String::from_utf8_lossy(bytes)),
        }
    }
    // The same length twice is one length.
    let bytes = b"POST / HTTP/1.1\r\ncontent-length: 2, 2\r\n\r\n{}";
    assert_eq!(whole(read(bytes.to_vec()).await).body, b"{}");
}

#[tokio::test]
async fn a_head_that_is_not_http_is_refused_naming_why() {
    match read(b"POST / HTTP/9\r\n\r\n".to_vec()).await {
        Incoming::Bad(_, why) => {
            assert_eq!(why, FramingError::NotHttp(httparse::Error::Version));
        }
        _ => panic!("read as HTTP"),
    }
}

#[test]
fn no_control_character_reaches_an_answer_head() {
    let head = answer_head(
        200,
        &[("client-id".into(), "A\nset-cookie: x=1\r".into())],
        0,
    );
    assert!(head.contains("client-id: Aset-cookie: x=1\r\n"), "{head}");
    assert_eq!(head.matches('\n').count(), 4, "{head}");
}

#[test]
fn path_of_takes_the_path_from_either_form() {
    use super::request::path_of;
    assert_eq!(path_of("/a/b?c=d"), "/a/b");
    assert_eq!(path_of("http://host:80/a/b"), "/a/b");
    assert_eq!(path_of("https://host"), "/");
    assert_eq!(path_of("https://host?x"), "/");
}

/// The answer read from `bytes`, as a relay reads it back.
async fn answer(bytes: &[u8], head_only: bool) -> Result<Response, HttpError> {
    Reader::new(bytes).response(head_only, 1 << 20).await
}

#[tokio::test]
async fn an_answer_head_gives_its_framing() {
    let read = answer(
        b"HTTP/1.1 200 OK\r\ncontent-length: 12\r\n\r\n{\"result\":1}",
        false,
    )
    .await
    .unwrap();
    assert_eq!((read.status, read.close), (200, false));
    assert_eq!(read.body, br#"{"result":1}"#);
    let read = answer(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: Close\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        false,
    )
    .await
    .unwrap();
    assert_eq!((read.body.as_slice(), read.close), (&b"ok"[..], true));
    assert_eq!(
        read.headers[0],
        ("transfer-encoding".into(), "chunked".into())
    );
    let read = answer(b"HTTP/1.0 200 OK\r\n\r\nto the end", false)
        .await
        .unwrap();
    assert!(read.close, "HTTP/1.0 closes unless kept alive");
    assert_eq!(read.body, b"to the end");
    assert!(matches!(
        answer(b"HTTP/1.1 200 OK\r\ncontent-le", false).await,
        Err(HttpError::CutShort)
    ));
    assert!(matches!(
        answer(b"NOT HTTP\r\n\r\n", false).await,
        Err(HttpError::BadAnswerHead(_))
    ));
}

#[tokio::test]
async fn an_answer_body_past_the_readers_limit_is_refused() {
    let read = Reader::new(&b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\nhello world"[..])
        .response(false, 10)
        .await;
    assert!(matches!(read, Err(HttpError::AnswerTooLarge(10))));
    let chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n";
    let read = Reader::new(&chunked[..]).response(false, 10).await;
    assert!(matches!(read, Err(HttpError::AnswerTooLarge(10))));
}

//! The transport's unit tests: order, the direct path, back-pressure,
//! shutdown and drop with bytes pending, a reset peer, connection info.

use super::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn pair(drain: Duration) -> (Coalesced, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let peer = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    let (accepted, _) = listener.accept().await.unwrap();
    (Coalesced::with_drain(accepted, drain), peer)
}

fn pending(conn: &Coalesced) -> usize {
    conn.shared.lock().pending.len()
}

async fn in_order_then_eof(batching: bool) {
    let (mut conn, mut peer) = pair(DRAIN_ON_DROP).await;
    let _batch = batching.then(|| conn.connect_info().batch_writes());
    let expected: Vec<u8> = (0..3 * HIGH_WATER + 17).map(|i| (i % 251) as u8).collect();
    let reader = tokio::spawn(async move {
        let mut got = Vec::new();
        peer.read_to_end(&mut got).await.unwrap();
        got
    });
    for chunk in expected.chunks(1700) {
        conn.write_all(chunk).await.unwrap();
        conn.flush().await.unwrap();
    }
    conn.shutdown().await.unwrap();
    assert_eq!(conn.write(b"late").await.unwrap_err().kind(), io::ErrorKind::BrokenPipe);
    assert_eq!(reader.await.unwrap(), expected);
}

#[tokio::test]
async fn direct_writes_arrive_in_order_then_eof_on_shutdown() {
    in_order_then_eof(false).await;
}

#[tokio::test]
async fn batched_writes_arrive_in_order_then_eof_on_shutdown() {
    in_order_then_eof(true).await;
}

#[tokio::test]
async fn only_a_batching_connection_holds_its_writes_for_the_writer() {
    let (mut conn, mut peer) = pair(DRAIN_ON_DROP).await;
    // Let the runtime learn that the new socket is writable.
    tokio::time::sleep(Duration::from_millis(20)).await;
    conn.write_all(b"direct").await.unwrap();
    assert_eq!(pending(&conn), 0, "a connection with no feed stream writes at once");

    let batch = conn.connect_info().batch_writes();
    conn.write_all(b"+batched").await.unwrap();
    assert_eq!(pending(&conn), 8, "a batching connection leaves the write to its writer");
    drop(batch);

    let mut got = vec![0u8; 14];
    peer.read_exact(&mut got).await.unwrap();
    assert_eq!(got, b"direct+batched");
    conn.write_all(b"!").await.unwrap();
    assert_eq!(pending(&conn), 0, "the guard gone, writes are direct again");
}

#[tokio::test]
async fn a_full_peer_holds_writes_at_the_high_water_mark() {
    let (mut conn, mut peer) = pair(DRAIN_ON_DROP).await;
    let chunk = vec![7u8; 64 * 1024];
    // The peer reads nothing: the kernel's buffers fill, then ours.
    let stuck = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            conn.write_all(&chunk).await.unwrap();
        }
    })
    .await;
    assert!(stuck.is_err(), "writes never waited");
    assert!(pending(&conn) <= HIGH_WATER);
    // Reading unblocks it.
    let mut sink = vec![0u8; 1 << 20];
    let n = peer.read(&mut sink).await.unwrap();
    assert!(n > 0);
}

#[tokio::test]
async fn a_dropped_connection_still_sends_what_is_pending() {
    let (mut conn, mut peer) = pair(DRAIN_ON_DROP).await;
    let batch = conn.connect_info().batch_writes();
    conn.write_all(b"last words").await.unwrap();
    assert_eq!(pending(&conn), 10);
    drop(conn);
    drop(batch);
    let mut got = Vec::new();
    peer.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, b"last words");
}

#[tokio::test]
async fn a_dropped_connection_to_a_peer_that_never_reads_frees_its_writer() {
    let (mut conn, _peer) = pair(Duration::from_millis(200)).await;
    let chunk = vec![1u8; 64 * 1024];
    let _ = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            conn.write_all(&chunk).await.unwrap();
        }
    })
    .await;
    assert!(pending(&conn) > 0);
    let shared = Arc::downgrade(&conn.shared);
    drop(conn);
    let freed = tokio::time::timeout(Duration::from_secs(10), async {
        while shared.strong_count() > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(freed.is_ok(), "the writer outlived its drain deadline");
}

#[tokio::test]
async fn a_reset_peer_fails_later_writes() {
    let (mut conn, peer) = pair(DRAIN_ON_DROP).await;
    let _batch = conn.connect_info().batch_writes();
    socket2::SockRef::from(&peer).set_linger(Some(Duration::ZERO)).unwrap();
    drop(peer);
    let failed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if conn.write_all(&[0u8; 1024]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(failed.is_ok(), "writes to a reset peer kept succeeding");
    assert!(conn.flush().await.is_err());
}

#[tokio::test]
async fn connect_info_names_both_ends() {
    let (conn, peer) = pair(DRAIN_ON_DROP).await;
    let info = conn.connect_info();
    assert_eq!(info.tcp.remote_addr(), Some(peer.local_addr().unwrap()));
    assert_eq!(info.tcp.local_addr(), Some(peer.peer_addr().unwrap()));
}

//! Lingering reads of request bodies a handler refused without reading.
//!
//! A server that answers early (404 for a write outside any pod, 401, 413) and then drops the
//! request body makes hyper stop reading and close the connection once the answer is written.
//! The client is usually still sending; the bytes that arrive after the close make the kernel
//! reset the connection, and the reset can reach the client before it has read the answer, so
//! it sees "connection reset" instead of the problem body (the lingering-close problem HTTP
//! servers have had since Apache). Here a body dropped unfinished is handed to a task that
//! reads and discards up to [`LINGER_BYTES`] for at most [`LINGER_TIME`]: a client whose body
//! fits gets its answer and keeps its connection; a larger upload is still cut off.

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// The most a refused body may still send; beyond it the connection closes.
pub const LINGER_BYTES: usize = 1024 * 1024;
/// How long a refused body may take to arrive.
pub const LINGER_TIME: Duration = Duration::from_secs(5);

/// A request body that, dropped before its end, is read to its end (within bounds) elsewhere.
pub struct Lingering<B>
where
    B: Body<Data = Bytes> + Send + Unpin + 'static,
{
    inner: Option<B>,
}

impl<B> Lingering<B>
where
    B: Body<Data = Bytes> + Send + Unpin + 'static,
{
    pub fn new(inner: B) -> Self {
        Self { inner: Some(inner) }
    }
}

pub fn request<B>(req: http::Request<B>) -> http::Request<Lingering<B>>
where
    B: Body<Data = Bytes> + Send + Unpin + 'static,
{
    req.map(Lingering::new)
}

impl<B> Body for Lingering<B>
where
    B: Body<Data = Bytes> + Send + Unpin + 'static,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.get_mut().inner.as_mut() {
            Some(inner) => Pin::new(inner).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}

impl<B> Drop for Lingering<B>
where
    B: Body<Data = Bytes> + Send + Unpin + 'static,
{
    fn drop(&mut self) {
        let Some(body) = self.inner.take() else {
            return;
        };
        if body.is_end_stream() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(discard(body));
        }
    }
}

async fn discard<B>(mut body: B)
where
    B: Body<Data = Bytes> + Send + Unpin + 'static,
{
    let mut left = LINGER_BYTES;
    let _ = tokio::time::timeout(LINGER_TIME, async {
        while let Some(Ok(frame)) = body.frame().await {
            let Some(data) = frame.data_ref() else {
                continue;
            };
            match left.checked_sub(data.len()) {
                Some(rest) => left = rest,
                None => return,
            }
        }
    })
    .await;
}

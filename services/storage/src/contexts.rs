//! Remote JSON-LD contexts: only allow-listed URLs are ever fetched, each at most once per
//! process (then cached), with a size and time limit. Everything else is refused, so a client
//! cannot make the server fetch arbitrary URLs.

use podplane_solid::rdf::ContextLoader;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const MAX_CONTEXT_BYTES: usize = 1024 * 1024;

#[derive(Clone)]
pub struct ContextCache {
    allow: Arc<Vec<String>>,
    cache: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    client: reqwest::Client,
}

impl ContextCache {
    pub fn new(allow: Vec<String>) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self {
            allow: Arc::new(allow),
            cache: Arc::default(),
            client,
        }
    }

    /// A loader for the JSON-LD parser. It blocks on the fetch, so it must only be called from
    /// a blocking thread (`spawn_blocking`), which is where RDF parsing runs.
    pub fn loader(&self) -> ContextLoader {
        // The parser demands unwind safety; a panic while fetching leaves nothing half-done
        // here (the cache is only written after a complete fetch), so asserting it is sound.
        let captured =
            std::panic::AssertUnwindSafe((self.clone(), tokio::runtime::Handle::current()));
        Arc::new(move |url: &str| {
            // Borrow the wrapper as a whole: edition-2021 closures would otherwise capture the
            // inner fields and lose the assertion.
            let std::panic::AssertUnwindSafe((cache, handle)) = &captured;
            cache.load(handle, url)
        })
    }

    fn load(&self, handle: &tokio::runtime::Handle, url: &str) -> Result<Vec<u8>, String> {
        if !self.allow.iter().any(|a| a == url) {
            return Err(format!(
                "remote context {url} is not on this server's allow list"
            ));
        }
        if let Some(hit) = self
            .cache
            .lock()
            .map_err(|_| "context cache poisoned")?
            .get(url)
        {
            return Ok(hit.clone());
        }
        let bytes = handle.block_on(self.fetch(url))?;
        self.cache
            .lock()
            .map_err(|_| "context cache poisoned")?
            .insert(url.to_owned(), bytes.clone());
        Ok(bytes)
    }

    async fn fetch(&self, url: &str) -> Result<Vec<u8>, String> {
        use futures_util::StreamExt;
        let res = self
            .client
            .get(url)
            .header("accept", "application/ld+json, application/json")
            .send()
            .await
            .map_err(|e| format!("fetching {url}: {e}"))?;
        if !res.status().is_success() {
            return Err(format!("fetching {url}: status {}", res.status()));
        }
        let mut body = Vec::new();
        let mut stream = res.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| format!("fetching {url}: {e}"))?;
            if body.len() + chunk.len() > MAX_CONTEXT_BYTES {
                return Err(format!(
                    "context {url} is larger than {MAX_CONTEXT_BYTES} bytes"
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

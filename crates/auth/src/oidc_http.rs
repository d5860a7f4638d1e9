//! The HTTP client the OpenID Connect flows use: the workspace's `reqwest`, adapted to
//! `openidconnect`'s `AsyncHttpClient`. Never follows redirects (a redirect from the provider
//! would let it point us anywhere: SSRF), bounds every request in time and every response in size.

use std::{future::Future, pin::Pin, time::Duration};

use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse, http};

/// Largest provider response we read (discovery documents and JWKS are a few KiB).
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpError {
    #[error("request to the identity provider failed")]
    Request(#[source] reqwest::Error),
    #[error("the identity provider's response is larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
    #[error("the identity provider's response could not be read")]
    Response(#[source] http::Error),
}

#[derive(Debug, Clone)]
pub(crate) struct ProviderHttp(reqwest::Client);

impl ProviderHttp {
    pub(crate) fn new(timeout: Duration) -> Result<Self, reqwest::Error> {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .build()
            .map(Self)
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let request = reqwest::Request::try_from(request).map_err(HttpError::Request)?;
        let mut response = self.0.execute(request).await.map_err(HttpError::Request)?;
        let mut builder = http::Response::builder()
            .status(response.status())
            .version(response.version());
        for (name, value) in response.headers() {
            builder = builder.header(name, value);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(HttpError::Request)? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(HttpError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        builder.body(body).map_err(HttpError::Response)
    }
}

impl<'c> AsyncHttpClient<'c> for ProviderHttp {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

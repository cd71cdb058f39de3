use std::convert::Infallible;
use http_body_util::Full;
use hyper_util::{rt::{TokioExecutor, TokioIo}, server::conn::auto, service::TowerToHyperService};
use tower_passport::{GuardLayer, Principal, RequireLayer, Verifier};

async fn serve(verifier: Verifier, stream: tokio::net::TcpStream) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let service = tower::ServiceBuilder::new()
        .layer(GuardLayer::new(verifier))
        .layer(RequireLayer::all_scopes(["read-posts"]))
        .service_fn(|req: http::Request<hyper::body::Incoming>| async move {
            let principal = req.extensions().get::<Principal>().cloned();
            let scopes = principal.map(|p| p.scopes().len());
            Ok::<_, Infallible>(http::Response::new(Full::from(format!("{scopes:?}"))))
        });
    auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
        .await
}

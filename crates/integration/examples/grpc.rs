//! A tonic gRPC service guarded by the same [`GuardLayer`] and [`RequireLayer`] as the HTTP
//! examples. With [`GrpcResponder`] every rejection is a gRPC status a gRPC client
//! understands: `UNAUTHENTICATED` (16) without a good token, `PERMISSION_DENIED` (7)
//! without the scope, the description in `grpc-message` and the RFC 6750 challenge in
//! `www-authenticate` (tonic puts it in `Status::metadata()`).
//!
//! ```text
//! cargo run -p integration --example grpc     # BIND=127.0.0.1:50051 by default
//! ```
//!
//! It serves `orders.Orders/Get` on loopback, calls itself with a tonic client (a good
//! token, no token, a bad token, a token without the scope) and prints the outcomes, two tokens
//! and the grpcurl commands to try them. `tests/grpc.rs` runs the same server with a real
//! tonic client on every test run.
//!
//! The service, as a `.proto`. The example writes it out by hand, so it needs no protoc
//! and no build script: the messages as prost-build would generate them, the server's
//! routing and the client as a few lines over tonic's `server::Grpc` and `client::Grpc`
//! (tonic-build's generated code does the same, longer):
//!
//! ```proto
//! syntax = "proto3";
//! package orders;
//!
//! service Orders {
//!   rpc Get(GetOrderRequest) returns (Order);  // needs the scope orders:read
//! }
//! message GetOrderRequest { string id = 1; }
//! message Order { string id = 1; string status = 2; string customer = 3; }
//! ```
//!
//! The tokens come from a throwaway [`TestIssuer`] so the example runs on its own; a real
//! service builds its [`Verifier`] from its authorization server's keys, as
//! `examples/resource_server.rs` does, and nothing else changes.

#[path = "../../quickstart/src/demo/exit.rs"]
mod exit;

use std::convert::Infallible;
use std::error::Error;
use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::task::{Context, Poll};

use http::uri::PathAndQuery;
use tokio::net::TcpListener;
use tonic::server::NamedService;
use tonic::service::LayerExt;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Endpoint, Server};
use tonic::Status;
use tonic_prost::ProstCodec;
use tower::ServiceBuilder;
use tower_passport::error::GrpcResponder;
use tower_passport::{GuardLayer, Principal, RequireLayer, Verifier};
use tower_passport_issuer::testing::TestIssuer;

/// The scope `orders.Orders` asks of every call.
pub const READ_ORDERS: &str = "orders:read";

/// The request message (`GetOrderRequest` in the `.proto`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetOrderRequest {
    #[prost(string, tag = "1")]
    pub id: String,
}

/// The answer (`Order` in the `.proto`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Order {
    #[prost(string, tag = "1")]
    pub id: String,
    #[prost(string, tag = "2")]
    pub status: String,
    /// The token's subject: the guard's [`Principal`] reaches the handler.
    #[prost(string, tag = "3")]
    pub customer: String,
}

/// `orders.Orders/Get`: the handler, which reads the principal the guard put in the
/// request's extensions.
async fn get_order(request: tonic::Request<GetOrderRequest>) -> Result<tonic::Response<Order>, Status> {
    let customer = request.extensions().get::<Principal>().and_then(Principal::subject).unwrap_or("");
    let order =
        Order { id: request.get_ref().id.clone(), status: "shipped".into(), customer: customer.into() };
    Ok(tonic::Response::new(order))
}

/// The `orders.Orders` service as tonic serves it: its one method, the rest unimplemented.
#[derive(Clone, Copy, Debug, Default)]
pub struct OrdersServer;

impl NamedService for OrdersServer {
    const NAME: &'static str = "orders.Orders";
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl tower::Service<http::Request<tonic::body::Body>> for OrdersServer {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        match request.uri().path() {
            "/orders.Orders/Get" => Box::pin(async move {
                let mut grpc = tonic::server::Grpc::new(ProstCodec::<Order, GetOrderRequest>::default());
                Ok(grpc.unary(tower::service_fn(get_order), request).await)
            }),
            _ => Box::pin(async { Ok(Status::unimplemented("no such method").into_http()) }),
        }
    }
}

/// A client for `orders.Orders`, over any tonic [`Channel`].
#[derive(Clone, Debug)]
pub struct OrdersClient {
    grpc: tonic::client::Grpc<Channel>,
}

impl OrdersClient {
    /// A client for the server at `url` (`http://127.0.0.1:50051`).
    pub async fn connect(url: String) -> Result<Self, tonic::transport::Error> {
        let channel = Endpoint::from_shared(url)?.connect().await?;
        Ok(Self::new(channel))
    }

    /// A client over `channel`.
    pub fn new(channel: Channel) -> Self {
        Self { grpc: tonic::client::Grpc::new(channel) }
    }

    /// Calls `orders.Orders/Get`.
    pub async fn get(
        &mut self,
        request: tonic::Request<GetOrderRequest>,
    ) -> Result<tonic::Response<Order>, Status> {
        self.grpc.ready().await.map_err(|e| Status::unavailable(format!("not ready: {e}")))?;
        let path = PathAndQuery::from_static("/orders.Orders/Get");
        self.grpc.unary(request, path, ProstCodec::default()).await
    }
}

/// A `Get` request, with `authorization: Bearer <token>` when a token is given.
pub fn get_request(
    id: &str,
    token: Option<&str>,
) -> Result<tonic::Request<GetOrderRequest>, Box<dyn Error + Send + Sync>> {
    let mut request = tonic::Request::new(GetOrderRequest { id: id.into() });
    if let Some(token) = token {
        request.metadata_mut().insert("authorization", format!("Bearer {token}").parse()?);
    }
    Ok(request)
}

/// Serves `orders.Orders` on `listener` until `shutdown` completes: every call passes the
/// guard over `verifier` and needs [`READ_ORDERS`], and every rejection is a gRPC status.
pub async fn serve(
    listener: TcpListener,
    verifier: Verifier,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Box<dyn Error + Send + Sync>> {
    let guard = GuardLayer::builder(verifier).realm("orders").responder(GrpcResponder).build()?;
    // `named_layer` keeps the service's gRPC name, so the layers guard this service only.
    let orders = ServiceBuilder::new()
        .layer(guard)
        .layer(RequireLayer::all_scopes([READ_ORDERS]))
        .into_inner()
        .named_layer(OrdersServer);
    Server::builder()
        .add_service(orders)
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), shutdown)
        .await?;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    exit::exit_on_error(run().await.map_err(|error| error as Box<dyn Error>))
}

async fn run() -> Result<(), Box<dyn Error + Send + Sync>> {
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:50051".into());
    let issuer = TestIssuer::new()?;
    let listener = TcpListener::bind(&bind)
        .await
        .map_err(|e| exit::context(format!("BIND={bind}: cannot listen there"), e))?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(serve(listener, issuer.verifier()?, async {
        let _ = tokio::signal::ctrl_c().await;
    }));

    let reader = issuer.user_token("42", [READ_ORDERS])?;
    let stranger = issuer.user_token("43", ["orders:write"])?;
    let mut client = OrdersClient::connect(format!("http://{addr}")).await?;
    println!("orders.Orders on {addr}, guarded (scope {READ_ORDERS}):\n");
    let calls = [
        ("a good token", Some(reader.as_str())),
        ("no token", None),
        ("a bad token", Some("not-a-jwt")),
        ("no scope", Some(stranger.as_str())),
    ];
    for (what, token) in calls {
        match client.get(get_request("1001", token)?).await {
            Ok(order) => println!("{what:>14}: OK {:?}", order.into_inner()),
            Err(status) => println!(
                "{what:>14}: {:?} {:?}, www-authenticate: {:?}",
                status.code(),
                status.message(),
                status.metadata().get("www-authenticate"),
            ),
        }
    }
    print_grpcurl(&addr.to_string(), &reader, &stranger);
    server.await??;
    Ok(())
}

/// The grpcurl commands for the two tokens (grpcurl reads the service from the `.proto`).
fn print_grpcurl(addr: &str, reader: &str, stranger: &str) {
    println!(
        "\nWith grpcurl (save the .proto at the top of examples/grpc.rs as orders.proto):\n\n\
         READER={reader}\n\
         STRANGER={stranger}\n\
         grpcurl -plaintext -proto orders.proto -H \"authorization: Bearer $READER\" -d '{{\"id\":\"1001\"}}' {addr} orders.Orders/Get\n\
         grpcurl -plaintext -proto orders.proto -d '{{\"id\":\"1001\"}}' {addr} orders.Orders/Get                # Unauthenticated\n\
         grpcurl -plaintext -proto orders.proto -H \"authorization: Bearer $STRANGER\" -d '{{\"id\":\"1001\"}}' {addr} orders.Orders/Get   # PermissionDenied\n\n\
         Ctrl-C stops the server."
    );
}

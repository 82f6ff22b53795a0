//! The local stack, our stand-in for `sam local` (which needs Docker): a DynamoDB-compatible
//! server, the table `template.yaml` defines, and an HTTP gateway that hands each function's
//! handler the same event API Gateway (REST, proxy integration) would.

pub mod dynamodb_server;
pub mod gateway;
pub mod registry;
pub mod stream;
pub mod template;

pub use dynamodb_server::DynamoDbServer;
pub use gateway::{Gateway, RunningGateway};
pub use stream::{RunningStreamMapping, StartingPosition, StreamMapping};
pub use template::{Route, Template};

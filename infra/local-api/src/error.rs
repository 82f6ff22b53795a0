//! Why the local gateway cannot serve the template.

use crate::template::TemplateError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum GatewayError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("template.yaml routes {route} to function {function:?}, which has no handler in the local registry")]
    UnknownFunction { route: String, function: String },
    #[error("template.yaml routes WebSocket {route} to function {function:?}, whose handler is not a WebSocket one")]
    NotASocketHandler { route: String, function: String },
    #[error("cannot listen: {0}")]
    Bind(#[from] std::io::Error),
}

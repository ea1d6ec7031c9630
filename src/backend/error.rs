//! What can go wrong talking to a backend, typed so that `service` maps each to one HTTP status.
use crate::ajp::ProtocolError;
use std::fmt;

#[derive(Debug)]
pub enum BackendError {
    /// The host name did not resolve.
    Resolve(String),
    /// No TCP connection could be made (refused, unreachable, connect timeout).
    Connect(String),
    /// CPing got no CPong in time, or a wrong answer.
    Ping(String),
    /// Writing to the backend failed.
    Send(std::io::Error),
    /// Reading from the backend failed (reset, or any I/O error but a timeout).
    Recv(std::io::Error),
    /// The backend closed the connection (`mid_packet`: in the middle of a message).
    Closed { mid_packet: bool },
    /// No packet within the reply (or socket) timeout.
    Timeout,
    /// The reply was not complete within `reply_deadline`.
    Deadline,
    /// The backend sent something that is not valid AJP13.
    Protocol(ProtocolError),
    /// The backend sent a valid message where it makes no sense (e.g. body before headers).
    Unexpected(&'static str),
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendError::Resolve(m) => write!(f, "cannot resolve backend host {m}"),
            BackendError::Connect(m) => write!(f, "cannot connect to backend {m}"),
            BackendError::Ping(m) => write!(f, "CPing failed: {m}"),
            BackendError::Send(e) => write!(f, "sending to backend failed: {e}"),
            BackendError::Recv(e) => write!(f, "reading from backend failed: {e}"),
            BackendError::Closed { mid_packet: false } => {
                write!(f, "backend closed the connection")
            }
            BackendError::Closed { mid_packet: true } => {
                write!(f, "backend closed the connection in the middle of a packet")
            }
            BackendError::Timeout => write!(f, "backend reply timeout"),
            BackendError::Deadline => write!(f, "reply not complete within reply_deadline"),
            BackendError::Protocol(e) => write!(f, "invalid AJP13 from backend: {e}"),
            BackendError::Unexpected(m) => write!(f, "unexpected AJP13 message from backend: {m}"),
        }
    }
}

impl std::error::Error for BackendError {}

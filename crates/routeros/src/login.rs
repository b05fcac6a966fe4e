//! Logging in: the modern plain login, with a fall-back to the pre-6.43 MD5
//! challenge when the router answers with one.
//!
//! MikroTik's advice is to send `/login =name= =password=` first: routers from 6.43
//! accept it, and older ones ignore the arguments and reply `!done =ret=<challenge>`,
//! which we answer with `=response=00<md5(0x00 ‖ password ‖ challenge)>`.

use crate::codec::{Decoder, ProtocolError, SizeLimits, encode_sentence};
use crate::command::Command;
use crate::connection::{TlsConnect, connect};
use crate::error::{Error, Result};
use crate::reply::{Reply, ReplyKind};
use crate::session::Session;
use bytes::BytesMut;
use md5::{Digest, Md5};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

/// Which login the router accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginMethod {
    /// `/login =name= =password=` (RouterOS 6.43+ and 7).
    Plain,
    /// The MD5 challenge-response of RouterOS before 6.43.
    Challenge,
}

/// The legacy response for `password` and the router's hex `challenge`:
/// `"00" + hex(md5(0x00 ‖ password ‖ unhex(challenge)))`.
pub fn challenge_response(password: &[u8], challenge_hex: &str) -> Result<String> {
    let challenge = hex::decode(challenge_hex.trim()).map_err(|e| Error::Auth {
        message: format!("router sent a malformed login challenge {challenge_hex:?}: {e}"),
    })?;
    Ok(response_to_challenge(password, &challenge))
}

/// [`challenge_response`] for a challenge already decoded to bytes (what a
/// router computes to check the answer).
pub fn response_to_challenge(password: &[u8], challenge: &[u8]) -> String {
    let mut md5 = Md5::new();
    md5.update([0u8]);
    md5.update(password);
    md5.update(challenge);
    format!("00{}", hex::encode(md5.finalize()))
}

/// Logs `session` in before `deadline`. A rejected login is [`Error::Auth`] with the
/// router's message verbatim; a reply no login can get (`!re` rows, an unknown
/// reply word) is a protocol error at once (see [`Session::done_only`]).
pub async fn login(
    session: &Session,
    username: &str,
    password: &str,
    deadline: Instant,
) -> Result<LoginMethod> {
    let plain = Command::new("/login")
        .attr("name", username)
        .attr("password", password);
    let done = session.done_only(&plain, deadline).await.map_err(as_auth)?;
    let Some(challenge) = done.str("ret") else {
        return Ok(LoginMethod::Plain);
    };
    let response = challenge_response(password.as_bytes(), challenge)?;
    let legacy = Command::new("/login")
        .attr("name", username)
        .attr("response", response);
    session
        .done_only(&legacy, deadline)
        .await
        .map_err(as_auth)?;
    Ok(LoginMethod::Challenge)
}

/// Largest word or sentence [`knock`] accepts: a challenge or a trap message
/// is a few dozen bytes.
const KNOCK_LIMIT: usize = 4 << 10;

/// Asks the API service at `address` (through TLS when `tls` is given)
/// whether it is a RouterOS API that answers: connects, sends one bare
/// `/login` (no name, no password: no credentials leave the exporter and no
/// login is attempted), reads one reply sentence and closes. Returns the
/// reply word: `!done` (6.x: `!done =ret=<challenge>`), `!trap` or `!fatal`
/// — what RouterOS 7 answers is unverified, so any of the three counts.
/// A close, silence until `deadline`, bytes that are not a sentence, or
/// another reply word is an error: a service restricted with `address=`
/// accepts the TCP connection and closes it ([`Error::Eof`]).
pub async fn knock(address: &str, tls: Option<&TlsConnect>, deadline: Instant) -> Result<String> {
    let allowed = deadline.saturating_duration_since(Instant::now());
    let mut transport = connect(address, tls, deadline).await?;
    let exchange = async {
        let mut request = Vec::with_capacity(8);
        encode_sentence(["/login"], &mut request)?;
        transport.write_all(&request).await.map_err(Error::io)?;
        transport.flush().await.map_err(Error::io)?;
        let mut decoder = Decoder::new(SizeLimits {
            max_word_len: KNOCK_LIMIT,
            max_sentence_len: KNOCK_LIMIT,
        });
        let mut buf = BytesMut::with_capacity(256);
        loop {
            if let Some(sentence) = decoder.decode(&mut buf)? {
                return Ok(Reply::parse(sentence)?);
            }
            if transport.read_buf(&mut buf).await.map_err(Error::io)? == 0 {
                return Err(Error::Eof);
            }
        }
    };
    let reply = tokio::time::timeout_at(deadline, exchange)
        .await
        .map_err(|_| Error::Timeout(allowed, "API answer"))??;
    match reply.kind {
        ReplyKind::Done => Ok("!done".into()),
        ReplyKind::Trap => Ok("!trap".into()),
        ReplyKind::Fatal => Ok("!fatal".into()),
        ReplyKind::Re => Err(unexpected("!re")),
        ReplyKind::Empty => Err(unexpected("!empty")),
        ReplyKind::Unknown(word) => Err(unexpected(&word)),
    }
}

fn unexpected(word: &str) -> Error {
    Error::Protocol(ProtocolError::UnexpectedReply {
        word: word.to_string(),
        command: "/login".into(),
    })
}

fn as_auth(error: Error) -> Error {
    match error {
        Error::Trap { message, .. } => Error::Auth { message },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_vectors() {
        assert_eq!(
            challenge_response(b"", "93b438ec9b80057c06dd9fe67d56aa9a").unwrap(),
            "00e134102a9d330dd7b1849fedfea3cb57"
        );
        assert_eq!(
            challenge_response(b"", "856780b7411eefd3abadee2058c149a3").unwrap(),
            "005062f7a5ef124d34675bf3e81f56c556"
        );
        assert_eq!(
            challenge_response(b"passTest", "abc123").unwrap(),
            "0021277bff9ac7caf06aa608e46616d47f"
        );
    }

    #[test]
    fn malformed_challenge_is_an_auth_error() {
        assert!(matches!(
            challenge_response(b"x", "not-hex"),
            Err(Error::Auth { .. })
        ));
    }
}

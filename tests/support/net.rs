//! Ports on 127.0.0.1.

/// A port on 127.0.0.1 that nothing listens on: bound, then released. Another
/// process could take it in between; the tests accept that small chance.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

//! Router address normalisation: `host[:port]`, `[v6]` or `[v6]:port` to `host:port`.

use std::net::Ipv6Addr;

/// Normalises `address` to `host:port`, filling in `default_port`.
///
/// Accepts `host`, `host:port`, `[ipv6]` and `[ipv6]:port`. A bare IPv6
/// address is refused because `2001:db8::1:8728` could mean either.
pub fn normalize(address: &str, default_port: u16) -> Result<String, String> {
    let address = address.trim();
    if address.is_empty() {
        return Err("address is empty".to_string());
    }
    if address.contains("://") {
        return Err(format!(
            "`{address}` is a URL; write host or host:port (e.g. 192.168.88.1:8728)"
        ));
    }
    if address.contains(char::is_whitespace) || address.contains('/') {
        return Err(format!("`{address}` is not a host or host:port"));
    }
    let (host, port) = if let Some(rest) = address.strip_prefix('[') {
        let Some((inside, after)) = rest.split_once(']') else {
            return Err(format!("`{address}`: missing `]` after the IPv6 address"));
        };
        if inside.parse::<Ipv6Addr>().is_err() {
            return Err(format!("`{inside}` is not an IPv6 address"));
        }
        let port = match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(p) => Some(p),
                None => return Err(format!("`{address}`: expected `:port` after `]`")),
            },
        };
        (format!("[{inside}]"), port)
    } else {
        match address.split_once(':') {
            Some((_, rest)) if rest.contains(':') => {
                return Err(format!(
                    "`{address}`: write IPv6 addresses in brackets, e.g. [2001:db8::1]:8728"
                ));
            }
            Some((host, port)) => (host.to_string(), Some(port)),
            None => (address.to_string(), None),
        }
    };
    if host.is_empty() {
        return Err(format!("`{address}` has no host"));
    }
    let port = match port {
        None => default_port,
        Some(p) => parse_port(p)?,
    };
    Ok(format!("{host}:{port}"))
}

/// Parses a TCP port, refusing 0 and values above 65535.
pub fn parse_port(text: &str) -> Result<u16, String> {
    match text.parse::<u64>() {
        Ok(0) => Err("port 0 is not allowed (use 1-65535)".to_string()),
        Ok(n) => u16::try_from(n).map_err(|_| format!("port {n} is out of range (1-65535)")),
        Err(_) => Err(format!("port `{text}` is not a number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_in_default_port() {
        assert_eq!(normalize("10.0.0.1", 8728).as_deref(), Ok("10.0.0.1:8728"));
        assert_eq!(normalize("10.0.0.1", 8729).as_deref(), Ok("10.0.0.1:8729"));
        assert_eq!(
            normalize("[2001:db8::1]", 8728).as_deref(),
            Ok("[2001:db8::1]:8728")
        );
        assert_eq!(
            normalize(" router.lan ", 8728).as_deref(),
            Ok("router.lan:8728")
        );
    }

    #[test]
    fn keeps_explicit_port() {
        assert_eq!(
            normalize("router.lan:1234", 8728).as_deref(),
            Ok("router.lan:1234")
        );
        assert_eq!(
            normalize("[2001:db8::1]:8729", 8728).as_deref(),
            Ok("[2001:db8::1]:8729")
        );
    }

    #[test]
    fn rejects_bad_addresses() {
        for (input, needle) in [
            ("", "empty"),
            ("  ", "empty"),
            ("10.0.0.1:0", "port 0"),
            ("10.0.0.1:70000", "out of range"),
            ("10.0.0.1:api", "not a number"),
            ("2001:db8::1", "brackets"),
            ("[2001:db8::1", "missing `]`"),
            ("[nope]:8728", "not an IPv6"),
            ("[2001:db8::1]8728", "expected `:port`"),
            (":8728", "no host"),
            ("http://10.0.0.1", "URL"),
            ("a b", "not a host"),
        ] {
            let err = normalize(input, 8728).expect_err(input);
            assert!(err.contains(needle), "{input}: {err}");
        }
    }
}

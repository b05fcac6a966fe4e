//! Login checks: plain (6.43+) and the legacy MD5 challenge (before 6.43).

use routeros::login::response_to_challenge;

/// The trap message RouterOS sends for bad credentials.
pub const INVALID_CREDENTIALS: &str = "invalid user name or password (6)";

/// Sixteen random challenge bytes for a legacy `/login`.
pub fn new_challenge() -> [u8; 16] {
    rand::random()
}

/// True when `response` answers `challenge` for `password` (hex case ignored).
pub fn response_matches(password: &[u8], challenge: &[u8], response: &[u8]) -> bool {
    response_to_challenge(password, challenge)
        .as_bytes()
        .eq_ignore_ascii_case(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_vectors() {
        let vectors = [
            (
                "",
                "93b438ec9b80057c06dd9fe67d56aa9a",
                "00e134102a9d330dd7b1849fedfea3cb57",
            ),
            (
                "",
                "856780b7411eefd3abadee2058c149a3",
                "005062f7a5ef124d34675bf3e81f56c556",
            ),
            ("passTest", "abc123", "0021277bff9ac7caf06aa608e46616d47f"),
        ];
        for (password, challenge, response) in vectors {
            let challenge = hex::decode(challenge).unwrap();
            assert_eq!(
                response_to_challenge(password.as_bytes(), &challenge),
                response
            );
            assert!(response_matches(
                password.as_bytes(),
                &challenge,
                response.to_uppercase().as_bytes()
            ));
            assert!(!response_matches(b"wrong", &challenge, response.as_bytes()));
        }
    }

    #[test]
    fn challenges_differ() {
        assert_ne!(new_challenge(), new_challenge());
    }
}

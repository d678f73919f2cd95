//! Short content hashes: the one rule for the eight hex digits flowc puts in names (Kubernetes
//! names cut to their limit, run folders), so the same text always gives the same suffix.

use sha2::{Digest, Sha256};

/// Eight hex digits of the SHA-256 of `text`.
pub fn short_hash(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::short_hash;

    #[test]
    fn eight_hex_digits_of_the_sha256() {
        // sha256("abc") = ba7816bf...
        assert_eq!(short_hash("abc"), "ba7816bf");
        assert_eq!(short_hash(""), "e3b0c442");
    }
}

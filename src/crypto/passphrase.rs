//! New team passphrases: a generated one ([`generate`]) and a strength estimate of a chosen one
//! ([`strength`], zxcvbn). The store's passphrase wraps its data key (docs/store-format.md,
//! "The store header"): anyone who guesses it reads every session, offline, at the speed of
//! Argon2id. Nothing here refuses a passphrase; the CLI warns on a weak one (docs/sync.md).

use zeroize::Zeroizing;

use super::CryptoError;

/// The RFC 4648 base32 alphabet, lower case (no 0/1/8/9: nothing to confuse with o/l/b/g).
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
/// Groups of [`GROUP`] characters: 6 × 5 × 5 bits = 150 bits from the OS RNG.
const GROUPS: usize = 6;
const GROUP: usize = 5;

/// A new passphrase from the operating system's random number generator: six groups of five
/// base32 characters joined by `-` (150 bits), e.g. `k3v7q-mzt2a-...`.
pub fn generate() -> Result<Zeroizing<String>, CryptoError> {
    let bytes = Zeroizing::new(super::random::<{ GROUPS * GROUP }>()?);
    let mut out = Zeroizing::new(String::with_capacity(GROUPS * (GROUP + 1)));
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && i % GROUP == 0 {
            out.push('-');
        }
        // 256 is a multiple of 32: the low five bits of a uniform byte are uniform.
        out.push(char::from(ALPHABET[usize::from(b & 31)]));
    }
    Ok(out)
}

/// How hard a passphrase is to guess, by zxcvbn's estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Strength {
    /// zxcvbn's score, 0 (guessed within 10^3 tries) to 4 (more than 10^10).
    pub score: u8,
    /// log10 of the number of guesses zxcvbn expects an attacker to need.
    pub guesses_log10: f64,
}

impl Strength {
    /// Below score 3 (10^10 guesses): worth a warning for a key that guards a whole team's
    /// sessions against offline guessing.
    pub fn is_weak(&self) -> bool {
        self.score < 3
    }
}

/// zxcvbn's estimate of `passphrase` (dictionary words, names, keyboard patterns, dates,
/// repeats, and `user_inputs` such as the user's name count as guessable).
pub fn strength(passphrase: &str, user_inputs: &[&str]) -> Strength {
    let e = zxcvbn::zxcvbn(passphrase, user_inputs);
    Strength {
        score: u8::from(e.score()),
        guesses_log10: e.guesses_log10(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passphrases_are_long_random_and_strong() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_ne!(*a, *b);
        assert_eq!(a.len(), GROUPS * GROUP + GROUPS - 1);
        assert!(
            a.split('-')
                .all(|g| g.len() == GROUP && g.bytes().all(|c| ALPHABET.contains(&c)))
        );
        assert!(!strength(&a, &[]).is_weak());
    }

    #[test]
    fn common_passphrases_are_weak() {
        for weak in ["password", "password123", "qwertyuiop", "letmein!"] {
            assert!(strength(weak, &[]).is_weak(), "{weak}");
        }
        assert!(!strength("correct horse battery staple", &[]).is_weak());
    }
}

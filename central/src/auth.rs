//! Secrets: the halls' credentials (random, shown once, kept as SHA-256), head office's passwords
//! (argon2, as the hub keeps its staff's) and the session tokens of the web page, all made and
//! checked by the same code as the hub's (`hallq_shared::secrets`).

pub use hallq_shared::secrets::{
    burn_password_time, hash_password, new_secret, sha256_hex, verify_password,
};

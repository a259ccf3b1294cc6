//! Who is asking: clerks and managers sign in with a password (argon2) and get a session token;
//! kiosks and display boards hold a device token. Tokens are 32 random bytes shown once; the
//! database keeps only their SHA-256.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use hallq_shared::engine::Actor;
use hallq_shared::hall::{CounterId, Millis};
use hallq_shared::protocol::Role;
pub use hallq_shared::secrets::{burn_password_time, hash_password, sha256_hex, verify_password};

use super::error::ApiError;

/// A clerk's session lasts one working day at most.
pub const SESSION_HOURS: i64 = 12;
/// How long a token found in the database is trusted before it is looked up again. Changes made
/// through this hub (password reset, demotion, disabling, revoking) take effect at once; this is
/// how long one made from the command line beside a running hub takes.
pub const RECHECK: Duration = Duration::from_secs(10);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// Login or device name.
    pub name: String,
    pub role: Role,
    /// The counter a clerk signed in at, or the one a rating tablet is bound to.
    pub counter: Option<CounterId>,
    /// Session expiry; `None` for devices.
    pub expires_at: Option<Millis>,
    pub token_hash: String,
}

impl Principal {
    pub fn actor(&self) -> Actor {
        Actor::new(self.name.clone(), self.role, self.counter)
    }

    pub fn is_person(&self) -> bool {
        matches!(self.role, Role::Staff | Role::Manager)
    }

    /// A clerk acts only at the counter they signed in at; a manager anywhere.
    pub fn may_act_at(&self, counter: CounterId) -> Result<(), ApiError> {
        match self.role {
            Role::Manager => Ok(()),
            Role::Staff if self.counter == Some(counter) => Ok(()),
            Role::Staff => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "other_counter",
                match self.counter {
                    Some(c) => format!("you are signed in at counter {c}, not {counter}"),
                    None => "sign in at a counter to act on it".to_string(),
                },
            )
            .zh("只能操作您登录的窗口")),
            _ => Err(ApiError::forbidden("staff only")),
        }
    }
}

pub fn role_str(r: Role) -> &'static str {
    match r {
        Role::Staff => "staff",
        Role::Manager => "manager",
        Role::Kiosk => "kiosk",
        Role::Display => "display",
        Role::Tablet => "tablet",
    }
}

pub fn parse_role(s: &str) -> Option<Role> {
    match s {
        "staff" => Some(Role::Staff),
        "manager" => Some(Role::Manager),
        "kiosk" => Some(Role::Kiosk),
        "display" => Some(Role::Display),
        "tablet" => Some(Role::Tablet),
        _ => None,
    }
}

/// A fresh token: 32 random bytes, hex.
pub fn new_token() -> String {
    hallq_shared::secrets::new_secret()
}

pub fn token_hash(token: &str) -> String {
    sha256_hex(token)
}

/// At most this many password hashes run at once: each needs 19 MiB for its fraction of a
/// second, and at opening time a whole shift signs in together on a Pi with 1 GiB or less.
const PASSWORD_WORK_AT_ONCE: usize = 2;
static PASSWORD_WORK: tokio::sync::Semaphore =
    tokio::sync::Semaphore::const_new(PASSWORD_WORK_AT_ONCE);

/// Runs password work (hashing or checking) on a blocking thread, a bounded number at a time.
pub async fn password_work<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let _permit = PASSWORD_WORK
        .acquire()
        .await
        .map_err(ApiError::unavailable)?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(ApiError::unavailable)
}

/// Tokens recently found valid, so that a busy kiosk does not cost a query per ticket.
#[derive(Default, Debug)]
pub struct AuthCache {
    map: Mutex<HashMap<String, (Principal, Instant)>>,
    /// Moves on whenever an account or device is changed, so that a look-up that started before
    /// the change cannot put what it read back into the cache after it.
    generation: std::sync::atomic::AtomicU64,
}

impl AuthCache {
    /// The generation to hand back to [`AuthCache::put_if_current`].
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Cache `p` unless accounts or devices changed since `generation` was read.
    pub fn put_if_current(&self, p: Principal, generation: u64) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if self.generation() == generation {
            Self::insert(&mut map, p);
        }
    }

    pub fn get(&self, hash: &str, now: Millis) -> Option<Principal> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let (p, checked) = map.get(hash)?;
        if checked.elapsed() > RECHECK || p.expires_at.is_some_and(|e| e <= now) {
            return None;
        }
        Some(p.clone())
    }

    pub fn put(&self, p: Principal) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        Self::insert(&mut map, p);
    }

    fn insert(map: &mut HashMap<String, (Principal, Instant)>, p: Principal) {
        if map.len() > 10_000 {
            map.retain(|_, (_, at)| at.elapsed() <= RECHECK);
        }
        map.insert(p.token_hash.clone(), (p, Instant::now()));
    }

    pub fn forget(&self, hash: &str) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        map.remove(hash);
    }

    /// Forget every cached token of an account or device (call it after the change is committed).
    pub fn forget_login(&self, name: &str) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        map.retain(|_, (p, _)| p.name != name);
    }
}

/// The caller, if they sent a token. A token that is sent but not valid is refused (401) even on
/// routes that need none, so that a screen with a stale token finds out.
#[derive(Debug, Clone)]
pub struct Caller(pub Option<Principal>);

impl Caller {
    /// The principal, if their role is one of `roles`: 401 without a token, 403 with the wrong one.
    pub fn need(&self, roles: &[Role]) -> Result<&Principal, ApiError> {
        let p = self.0.as_ref().ok_or_else(ApiError::unauthorized)?;
        if roles.contains(&p.role) {
            Ok(p)
        } else {
            Err(ApiError::forbidden(format!(
                "this needs one of: {}",
                roles
                    .iter()
                    .map(|r| role_str(*r))
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    }

    pub fn staff(&self) -> Result<&Principal, ApiError> {
        self.need(&[Role::Staff, Role::Manager])
    }
}

/// Route guard: only `roles` may pass (401 without a token, 403 with another role). Runs before
/// the body is read, so a caller without the right is told so before any input check.
pub async fn require(
    roles: &'static [Role],
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let caller = req
        .extensions()
        .get::<Caller>()
        .cloned()
        .unwrap_or(Caller(None));
    match caller.need(roles) {
        Ok(_) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

pub const STAFF: &[Role] = &[Role::Staff, Role::Manager];
pub const MANAGER: &[Role] = &[Role::Manager];
pub const KIOSK: &[Role] = &[Role::Kiosk];
pub const ISSUERS: &[Role] = &[Role::Kiosk, Role::Staff, Role::Manager];
pub const ANY_SIGNED: &[Role] = &[Role::Kiosk, Role::Display, Role::Staff, Role::Manager];
/// Everyone with a token, the rating tablets included (they may only ask who they are and rate).
pub const ANY_TOKEN: &[Role] = &[
    Role::Kiosk,
    Role::Display,
    Role::Tablet,
    Role::Staff,
    Role::Manager,
];
pub const TABLET: &[Role] = &[Role::Tablet];

//! Limits on guessing, kept in memory: failed sign-ins per login and client address, sign-ins in
//! flight per client and in all, and unknown tokens per client.
//!
//! Why each limit is keyed as it is:
//! - A guess is counted as a failure *before* its password check runs and forgiven only when it
//!   succeeds, so guesses sent at once are counted like guesses sent one after another.
//! - Failures lock out a login only from the address that made them (and, far higher, from all
//!   addresses together), so someone typing wrong passwords for `manager` on the hall network does
//!   not lock the real manager out at the counter PC.
//! - Each address has at most two sign-ins in flight and the hub a bounded number, so a flood of
//!   sign-ins is refused at once instead of queueing for the password hash in front of staff.
//! - An address that keeps sending unknown tokens is answered without a database look-up.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::extract::ConnectInfo;
use axum::http::StatusCode;
use axum::http::request::Parts;
use hallq_shared::hall::Millis;

use super::error::ApiError;

const MINUTE_MS: Millis = 60_000;
/// Failed sign-ins per login from one address per minute.
pub const FAILURES_PER_LOGIN_AND_CLIENT: usize = 5;
/// Failed sign-ins per login from all addresses together per minute: only a guessing attack from
/// many addresses at once reaches it.
pub const FAILURES_PER_LOGIN: usize = 30;
/// Failed sign-ins from one address per minute, whatever the logins.
pub const FAILURES_PER_CLIENT: usize = 10;
/// Sign-ins being checked at once for one address.
pub const IN_FLIGHT_PER_CLIENT: u32 = 2;
/// Sign-ins being checked or waiting for the password hash at once, in all.
pub const IN_FLIGHT_TOTAL: u32 = 16;
/// Unknown tokens from one address per minute before its unknown tokens stop being looked up.
pub const BAD_TOKENS_PER_CLIENT: usize = 20;
/// Entries kept before old ones are swept (names and addresses typed at random must not grow
/// memory without bound).
const SWEEP_AT: usize = 1_000;

/// The address a request came from, when the server recorded it (requests handed to the router
/// directly, as in some tests, have none and share one bucket).
pub fn client_of(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// Extractor: the client's address (see [`client_of`]).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(client_of(parts)))
    }
}

#[derive(Debug, Default)]
struct Inner {
    login_failures: HashMap<(String, IpAddr), VecDeque<Millis>>,
    login_failures_all: HashMap<String, VecDeque<Millis>>,
    client_failures: HashMap<IpAddr, VecDeque<Millis>>,
    in_flight: HashMap<IpAddr, u32>,
    in_flight_total: u32,
    bad_tokens: HashMap<IpAddr, VecDeque<Millis>>,
}

/// Drop instants older than a minute; how many are left.
fn recent(q: &mut VecDeque<Millis>, now: Millis) -> usize {
    while q.front().is_some_and(|t| now - t >= MINUTE_MS) {
        q.pop_front();
    }
    q.len()
}

fn sweep<K: Eq + std::hash::Hash>(map: &mut HashMap<K, VecDeque<Millis>>, now: Millis) {
    if map.len() > SWEEP_AT {
        map.retain(|_, q| recent(q, now) > 0);
    }
}

/// Remove one instant `at` (a provisional failure that turned out a success).
fn forgive(q: Option<&mut VecDeque<Millis>>, at: Millis) {
    if let Some(q) = q
        && let Some(i) = q.iter().rposition(|t| *t == at)
    {
        q.remove(i);
    }
}

#[derive(Debug, Default, Clone)]
pub struct Throttle {
    inner: Arc<Mutex<Inner>>,
}

fn too_many() -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
        "too many failed sign-ins: wait a minute",
    )
    .zh("登录失败次数过多,请一分钟后再试")
}

fn busy() -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "sign_in_busy",
        "too many sign-ins at once from here: try again in a moment",
    )
    .zh("登录请求过多,请稍后再试")
}

impl Throttle {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Admit one sign-in for `login` from `client`, counted as a failure until
    /// [`SignIn::succeeded`] says otherwise.
    pub fn begin_sign_in(
        &self,
        login: &str,
        client: IpAddr,
        now: Millis,
    ) -> Result<SignIn, ApiError> {
        let mut g = self.lock();
        let inner = &mut *g;
        sweep(&mut inner.login_failures, now);
        sweep(&mut inner.login_failures_all, now);
        sweep(&mut inner.client_failures, now);
        let flying = inner.in_flight.get(&client).copied().unwrap_or(0);
        if flying >= IN_FLIGHT_PER_CLIENT || inner.in_flight_total >= IN_FLIGHT_TOTAL {
            return Err(busy());
        }
        let key = (login.to_string(), client);
        let mine = inner.login_failures.entry(key.clone()).or_default();
        if recent(mine, now) >= FAILURES_PER_LOGIN_AND_CLIENT {
            return Err(too_many());
        }
        let all = inner
            .login_failures_all
            .entry(login.to_string())
            .or_default();
        if recent(all, now) >= FAILURES_PER_LOGIN {
            return Err(too_many());
        }
        let by_client = inner.client_failures.entry(client).or_default();
        if recent(by_client, now) >= FAILURES_PER_CLIENT {
            return Err(too_many());
        }
        by_client.push_back(now);
        all.push_back(now);
        mine.push_back(now);
        *inner.in_flight.entry(client).or_default() += 1;
        inner.in_flight_total += 1;
        Ok(SignIn {
            throttle: self.clone(),
            login: key.0,
            client,
            at: now,
        })
    }

    /// Whether a token from `client` that is not in the cache may be looked up. Like a sign-in,
    /// the look-up counts as an unknown token until [`Throttle::token_found`] says otherwise, so
    /// that made-up tokens sent at once are limited like tokens sent one after another.
    pub fn begin_token_lookup(&self, client: IpAddr, now: Millis) -> bool {
        let mut g = self.lock();
        sweep(&mut g.bad_tokens, now);
        let q = g.bad_tokens.entry(client).or_default();
        if recent(q, now) >= BAD_TOKENS_PER_CLIENT {
            return false;
        }
        q.push_back(now);
        true
    }

    /// The token looked up at `at` was valid after all.
    pub fn token_found(&self, client: IpAddr, at: Millis) {
        forgive(self.lock().bad_tokens.get_mut(&client), at);
    }
}

/// One admitted sign-in. Dropped without [`SignIn::succeeded`], it stays counted as a failure.
#[derive(Debug)]
pub struct SignIn {
    throttle: Throttle,
    login: String,
    client: IpAddr,
    at: Millis,
}

impl SignIn {
    /// The password was right: this attempt is forgiven, and so are the earlier failures of this
    /// login from this address (the person has shown they know it).
    pub fn succeeded(self) {
        let mut g = self.throttle.lock();
        g.login_failures.remove(&(self.login.clone(), self.client));
        forgive(g.login_failures_all.get_mut(&self.login), self.at);
        forgive(g.client_failures.get_mut(&self.client), self.at);
    }
}

impl Drop for SignIn {
    fn drop(&mut self) {
        let mut g = self.throttle.lock();
        if let Some(n) = g.in_flight.get_mut(&self.client) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                g.in_flight.remove(&self.client);
            }
        }
        g.in_flight_total = g.in_flight_total.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))
    }

    #[test]
    fn guesses_at_once_count_like_guesses_in_a_row() {
        let t = Throttle::default();
        // Two attempts in flight from one address: a third is refused at once.
        let held: Vec<SignIn> = (0..2)
            .map(|_| t.begin_sign_in("manager", ip(2), 0).unwrap())
            .collect();
        assert_eq!(
            t.begin_sign_in("manager", ip(2), 0).unwrap_err().code,
            "sign_in_busy"
        );
        drop(held);
        // Attempts still being checked count as failures: with two failed and three more, the
        // sixth is refused.
        for _ in 0..3 {
            drop(t.begin_sign_in("manager", ip(2), 1).unwrap());
        }
        assert_eq!(
            t.begin_sign_in("manager", ip(2), 2).unwrap_err().code,
            "too_many_attempts"
        );
        // A minute later the address may try again.
        assert!(t.begin_sign_in("manager", ip(2), MINUTE_MS + 2).is_ok());
    }

    #[test]
    fn another_address_is_not_locked_out() {
        let t = Throttle::default();
        for _ in 0..FAILURES_PER_LOGIN_AND_CLIENT {
            drop(t.begin_sign_in("manager", ip(2), 0).unwrap());
        }
        assert!(t.begin_sign_in("manager", ip(2), 0).is_err());
        t.begin_sign_in("manager", ip(3), 0).unwrap().succeeded();
    }

    #[test]
    fn a_success_forgives_its_own_attempt_and_earlier_failures() {
        let t = Throttle::default();
        for _ in 0..4 {
            drop(t.begin_sign_in("clerk1", ip(4), 0).unwrap());
        }
        t.begin_sign_in("clerk1", ip(4), 1).unwrap().succeeded();
        for _ in 0..4 {
            drop(t.begin_sign_in("clerk1", ip(4), 2).unwrap());
        }
        assert!(t.begin_sign_in("clerk1", ip(4), 2).is_ok());
    }

    #[test]
    fn one_address_guessing_many_logins_is_stopped() {
        let t = Throttle::default();
        for i in 0..FAILURES_PER_CLIENT {
            drop(t.begin_sign_in(&format!("user{i}"), ip(5), 0).unwrap());
        }
        assert_eq!(
            t.begin_sign_in("someone", ip(5), 0).unwrap_err().code,
            "too_many_attempts"
        );
    }

    #[test]
    fn many_addresses_guessing_one_login_are_stopped_far_later() {
        let t = Throttle::default();
        for i in 0..FAILURES_PER_LOGIN {
            drop(t.begin_sign_in("manager", ip(10 + i as u8), 0).unwrap());
        }
        assert!(t.begin_sign_in("manager", ip(200), 0).is_err());
    }

    #[test]
    fn unknown_tokens_stop_being_looked_up() {
        let t = Throttle::default();
        // Valid tokens looked up do not count.
        for _ in 0..2 * BAD_TOKENS_PER_CLIENT {
            assert!(t.begin_token_lookup(ip(6), 0));
            t.token_found(ip(6), 0);
        }
        for _ in 0..BAD_TOKENS_PER_CLIENT {
            assert!(t.begin_token_lookup(ip(6), 0));
        }
        assert!(!t.begin_token_lookup(ip(6), 0));
        assert!(t.begin_token_lookup(ip(7), 0));
        assert!(t.begin_token_lookup(ip(6), MINUTE_MS));
    }
}

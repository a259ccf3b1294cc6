//! Unit tests of the queue rules, with an injected clock.

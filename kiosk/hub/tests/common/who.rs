//! Who calls a route in the role tables of the API tests.

use super::Fixture;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Who {
    Nobody,
    Kiosk,
    Display,
    /// Counter 1's rating tablet.
    Tablet,
    Clerk,
    Manager,
}

pub const ALL: &[Who] = &[
    Who::Nobody,
    Who::Kiosk,
    Who::Display,
    Who::Tablet,
    Who::Clerk,
    Who::Manager,
];

/// The bearer token of `who` in the fixture, if any.
pub fn token(f: &Fixture, who: Who) -> Option<String> {
    match who {
        Who::Nobody => None,
        Who::Kiosk => Some(f.kiosk.clone()),
        Who::Display => Some(f.display.clone()),
        Who::Tablet => Some(f.tablet.clone()),
        Who::Clerk => Some(f.clerk1.clone()),
        Who::Manager => Some(f.manager.clone()),
    }
}

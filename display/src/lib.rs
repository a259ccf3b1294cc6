//! hallq-board: the hall's public board and the counter screens, fed by the hub's event stream.
//!
//! Data flow: hub → [`link`] (own thread: snapshot, `seq`, reconnect) → [`screen`] (UI thread) →
//! [`model`] (protocol → what is shown) → the Slint adapter in `ui/adapter.slint`.

pub mod app;
pub mod demo;
pub mod fonts;
pub mod form;
pub mod headless;
pub mod http;
pub mod link;
pub mod model;
pub mod screen;
pub mod voice;

pub mod ui {
    //! The compiled .slint screens and their global adapter.
    #![allow(clippy::all, clippy::todo)]
    slint::include_modules!();
}

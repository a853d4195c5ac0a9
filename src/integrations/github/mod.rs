//! GitHub Actions: what an event asks to scan ([`event`], pure), and the
//! runner's files and the checkout it reads them against ([`actions`]).

pub mod actions;
pub mod event;

//! The cli tests, one binary (each module was its own test binary before the workspace split).

// Each module was a test binary of its own and includes the helper files it needs
// (`#[path]`), so a helper may be compiled once per module that uses it. Helpers that
// hold process-wide state (the in-process quickstart and its metrics recorder) are
// declared once, here.
#![allow(clippy::duplicate_mod)]

mod cli;

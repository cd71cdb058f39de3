//! The cli tests, one binary (each module was its own test binary before the workspace split).

mod cli;
